import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatch_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { allowCloudWatchAlarmsToUseKey, limitGrantsToAwsServices } from './key-policy';

/** Props of an `AlarmTopic`. */
export interface AlarmTopicProps {
  /**
   * Key the topic is encrypted with; the stack must own it. Its policy gets the statement that lets
   * CloudWatch alarms of this account publish to the topic.
   * @default - a new key with rotation, on which only AWS services may create grants
   */
  readonly encryptionKey?: kms.Key;
}

/**
 * An SNS topic for the constructs' `alarmActions`, encrypted with a customer-managed key that
 * CloudWatch may use. CloudWatch alarms cannot publish to a topic encrypted with SNS's AWS managed
 * key (its policy cannot be changed to let CloudWatch use it), and an unencrypted topic fails
 * cdk-nag's AwsSolutions-SNS2. Subscribe your on-call address or pager to `topic`.
 */
export class AlarmTopic extends Construct {
  /** The topic. */
  public readonly topic: sns.Topic;
  /** The topic's key. */
  public readonly encryptionKey: kms.Key;
  /** One action that publishes to the topic, for the constructs' `alarmActions`. */
  public readonly alarmActions: cloudwatch.IAlarmAction[];

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey ?? this.createKey();
    allowCloudWatchAlarmsToUseKey(this, this.encryptionKey);
    this.topic = new sns.Topic(this, 'Topic', { masterKey: this.encryptionKey, enforceSSL: true });
    this.alarmActions = [new cloudwatch_actions.SnsAction(this.topic)];
  }

  private createKey(): kms.Key {
    const key = new kms.Key(this, 'Key', { enableKeyRotation: true, description: `Encrypts the alarm topic ${this.node.path}` });
    limitGrantsToAwsServices(key);
    return key;
  }
}
