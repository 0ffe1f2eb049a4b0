import * as ecs from 'aws-cdk-lib/aws-ecs';
import { newTestApp, newTestStack, synthFindings, formatFindings } from '../../test/helpers/compliance';
import { OcrServiceCluster } from './ocr-service-cluster';

const image = ecs.ContainerImage.fromRegistry('111111111111.dkr.ecr.us-east-1.amazonaws.com/ocr-worker:1.0.0');

test('probe', () => {
  const app = newTestApp();
  const stack = newTestStack(app);
  new OcrServiceCluster(stack, 'Ocr', { image });
  const f = synthFindings(app).filter((x) => !x.path.includes('/Network/'));
  console.log(formatFindings(f));
});
