import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { newTestApp, newTestStack, synthFindings, formatFindings } from '../../test/helpers/compliance';
import { OcrServiceCapacity, OcrServiceCluster } from './ocr-service-cluster';

const image = ecs.ContainerImage.fromRegistry('111111111111.dkr.ecr.us-east-1.amazonaws.com/ocr-worker:1.0.0');

test('probe', () => {
  const app = newTestApp();
  const stack = newTestStack(app);
  new OcrServiceCluster(stack, 'Ocr', { image });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  new OcrServiceCluster(stack, 'Full', {
    image,
    encryptionKey: key,
    cache: {},
    tracing: { image: ecs.ContainerImage.fromRegistry('111111111111.dkr.ecr.us-east-1.amazonaws.com/xray-daemon:3') },
    secrets: { API_KEY: ecs.Secret.fromSecretsManager(secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'ocr/api-key')) },
    capacity: OcrServiceCapacity.SPOT_WITH_ON_DEMAND_BASE,
    internetFacing: true,
    certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:111111111111:certificate/abc'),
    jwtAuthentication: { issuer: 'https://issuer.example.com', jwksEndpoint: 'https://issuer.example.com/jwks' },
    webAclArn: 'arn:aws:wafv2:us-east-1:111111111111:regional/webacl/ocr/123',
  });
  const f = synthFindings(app).filter((x) => !x.path.includes('/Network/'));
  console.log(formatFindings(f));
});
