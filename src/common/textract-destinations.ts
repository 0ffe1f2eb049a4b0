import { Token } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { PropChecker } from './errors';

/**
 * Why a topic cannot take Amazon Textract's completion message from a construct in `region`, or
 * undefined. The publisher has one SNS client in its own region, and SNS publishes only to topics of
 * the client's region (Amazon SNS API Reference, Publish); the message carries no message group,
 * without which a Publish to a FIFO topic fails (Amazon SNS Developer Guide, "Message grouping for
 * FIFO topics").
 */
export function textractTopicProblem(topic: sns.ITopic, region: string, publisher: string): string | undefined {
  const topicRegion = topic.env.region;
  if (!Token.isUnresolved(topicRegion) && !Token.isUnresolved(region) && topicRegion !== region) {
    return `must be topics in the stack's region (${region}): ${publisher} publishes from there, got a topic in ${topicRegion}`;
  }
  if (topic.fifo) return 'must be standard topics: Textract\'s completion message carries no message group, which a FIFO topic requires';
  return undefined;
}

/**
 * Why a bucket cannot take the result pages from a construct in `region`, or undefined (only when its
 * region is known to differ). The writer's S3 client is in its own region and does not follow S3's
 * redirect to another one (AWS SDK for JavaScript v3 Developer Guide, "Amazon S3 considerations":
 * region redirects only with `followRegionRedirects`), and an S3 gateway endpoint reaches buckets of
 * its own region only (Amazon VPC AWS PrivateLink Guide, "Gateway endpoints for Amazon S3").
 */
export function textractOutputBucketProblem(bucket: s3.IBucket, region: string, writer: string): string | undefined {
  const bucketRegion = bucket.env.region;
  if (!Token.isUnresolved(bucketRegion) && !Token.isUnresolved(region) && bucketRegion !== region) {
    return `must be buckets in the stack's region (${region}): ${writer} writes from there, got a bucket in ${bucketRegion}`;
  }
  return undefined;
}

/** The destination props both constructs take for Textract's NotificationChannel and OutputConfig. */
export interface TextractDestinationProps {
  readonly textractNotificationTopics?: sns.ITopic[];
  readonly textractOutputBuckets?: s3.IBucket[];
}

/**
 * Fails the construct's `textractNotificationTopics` and `textractOutputBuckets` props for any topic or
 * bucket `sender` (what publishes and writes, in the construct's `region`) cannot use.
 */
export function checkTextractDestinations(check: PropChecker, props: TextractDestinationProps, region: string, sender: string): void {
  for (const topic of props.textractNotificationTopics ?? []) {
    const problem = textractTopicProblem(topic, region, sender);
    if (problem) check.fail('textractNotificationTopics', problem);
  }
  for (const bucket of props.textractOutputBuckets ?? []) {
    const problem = textractOutputBucketProblem(bucket, region, sender);
    if (problem) check.fail('textractOutputBuckets', problem);
  }
}
