import { RemovalPolicy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { createDeadLetterQueue } from './dead-letter-queue';
import { newTestApp, newTestStack, synthCompliant } from '../../test/helpers/compliance';

describe('createDeadLetterQueue', () => {
  test('GIVEN a dead-letter queue THEN it declares itself one (redrive allow policy), keeps messages 14 days and passes the nag packs', () => {
    const app = newTestApp();
    const stack = newTestStack(app);
    const dlq = createDeadLetterQueue(stack, 'Dlq', { deadLetterOf: 'the test queue', removalPolicy: RemovalPolicy.DESTROY });
    new sqs.Queue(stack, 'Source', { enforceSSL: true, deadLetterQueue: { queue: dlq, maxReceiveCount: 3 } });
    synthCompliant(app);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedriveAllowPolicy: { redrivePermission: 'allowAll' },
      MessageRetentionPeriod: 1209600,
      SqsManagedSseEnabled: true,
    });
  });

  test('GIVEN a key and a FIFO source THEN the dead-letter queue is FIFO and encrypted with the key', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    createDeadLetterQueue(stack, 'Dlq', { deadLetterOf: 'a FIFO queue', encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY, fifo: true });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      KmsMasterKeyId: stack.resolve(key.keyArn),
      RedriveAllowPolicy: { redrivePermission: 'allowAll' },
    });
  });
});
