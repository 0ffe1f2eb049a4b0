import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { newTestApp, newTestStack, synthCompliant } from '../../test/helpers/compliance';
import { BatchOcrProcessor } from './batch-ocr-processor';

const image = ecs.ContainerImage.fromRegistry('public.ecr.aws/example/ocr-worker:1.0.0');

describe('BatchOcrProcessor', () => {
  test('GIVEN defaults WHEN synthesized THEN compliant', () => {
    const app = newTestApp();
    const stack = newTestStack(app);
    new BatchOcrProcessor(stack, 'Ocr', { image });
    synthCompliant(app);
  });
});
