import { Token } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';

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
