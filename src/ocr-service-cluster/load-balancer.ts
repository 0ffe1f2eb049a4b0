import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as elbv2_actions from 'aws-cdk-lib/aws-elasticloadbalancingv2-actions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { OcrServiceApi } from './contract';
import { OcrServiceClusterProps } from './props';
import { Timings } from './validation';
import { PropChecker } from '../common/errors';
import { acknowledgeNagFindings } from '../common/nag';

/** The load balancer in front of the service, its listeners and target group. */
export interface LoadBalancerResources {
  readonly securityGroup: ec2.SecurityGroup;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly connections: ec2.Connections;
  readonly listener: elbv2.ApplicationListener;
  /** Port of `listener`: 443 with a certificate, else 80. */
  readonly listenerPort: number;
  readonly redirectListener?: elbv2.ApplicationListener;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly webAclAssociation?: wafv2.CfnWebACLAssociation;
}

/** Where the load balancer runs and what it forwards to. */
export interface LoadBalancerPlacement {
  readonly vpc: ec2.IVpc;
  readonly workloadSubnets: ec2.SubnetSelection;
  readonly accessLogsBucket: s3.IBucket;
  /** Container port of the tasks. */
  readonly port: number;
  readonly timings: Timings;
}

/**
 * An Application Load Balancer (internal, or internet-facing behind HTTPS and authentication) with
 * access logs, the target group of the tasks and, with `webAclArn`, its WAF web ACL.
 */
export function createLoadBalancer(
  scope: Construct, check: PropChecker, props: OcrServiceClusterProps, placement: LoadBalancerPlacement,
): LoadBalancerResources {
  const internetFacing = props.internetFacing ?? false;
  const securityGroup = new ec2.SecurityGroup(scope, 'LoadBalancerSecurityGroup', {
    vpc: placement.vpc,
    description: 'OCR service load balancer',
    allowAllOutbound: false,
  });
  const loadBalancer = new elbv2.ApplicationLoadBalancer(scope, 'LoadBalancer', {
    vpc: placement.vpc,
    internetFacing,
    vpcSubnets: props.loadBalancerSubnets ?? (internetFacing ? { subnetType: ec2.SubnetType.PUBLIC } : placement.workloadSubnets),
    securityGroup,
    dropInvalidHeaderFields: true,
    idleTimeout: placement.timings.idleTimeout,
    deletionProtection: props.loadBalancerDeletionProtection ?? false,
  });
  if (Token.isUnresolved(Stack.of(scope).region)) {
    // The bucket policy for ALB access logs names the region's Elastic Load Balancing account.
    check.fail('scope', 'must be in a stack with an explicit region (env: { region }): ALB access-log delivery is granted to the region\'s Elastic Load Balancing account');
  }
  loadBalancer.logAccessLogs(placement.accessLogsBucket, 'alb');
  const listenerPort = props.certificate ? 443 : 80;
  // Internal: nobody but the stream trigger until the user allows clients (`allowedClients` or
  // `connections.allowDefaultPortFrom(...)`); internet-facing: anyone, authenticated on the listener.
  const clients = props.allowedClients ?? (internetFacing ? [ec2.Peer.anyIpv4()] : []);
  const connections = new ec2.Connections({ securityGroups: [securityGroup], defaultPort: ec2.Port.tcp(listenerPort) });
  for (const client of clients) {
    securityGroup.addIngressRule(client, ec2.Port.tcp(listenerPort), 'OCR service clients');
  }

  const targetGroup = new elbv2.ApplicationTargetGroup(scope, 'TargetGroup', {
    vpc: placement.vpc,
    port: placement.port,
    protocol: elbv2.ApplicationProtocol.HTTP,
    targetType: elbv2.TargetType.IP,
    deregistrationDelay: placement.timings.deregistrationDelay,
    // OCR requests differ by orders of magnitude in cost: send the next one to the task with the
    // fewest in flight rather than round robin.
    loadBalancingAlgorithmType: elbv2.TargetGroupLoadBalancingAlgorithmType.LEAST_OUTSTANDING_REQUESTS,
    healthCheck: {
      path: OcrServiceApi.HEALTH_PATH,
      healthyHttpCodes: '200',
      interval: Duration.seconds(15),
      timeout: Duration.seconds(5),
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 3,
    },
  });
  const listener = loadBalancer.addListener('Listener', {
    port: listenerPort,
    protocol: props.certificate ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP,
    certificates: props.certificate ? [props.certificate] : undefined,
    sslPolicy: props.certificate ? elbv2.SslPolicy.RECOMMENDED_TLS : undefined,
    open: false,
    defaultAction: authenticatedForward(check, props, targetGroup),
  });
  if (props.jwtAuthentication) {
    // The load balancer fetches the issuer's JWKS over HTTPS (the OIDC and Cognito actions open this themselves).
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'JWKS endpoint of the JWT issuer');
  }
  // The listener's default action names the target group; record the dependency for the ALB->task rule.
  targetGroup.registerListener(listener);
  let redirectListener: elbv2.ApplicationListener | undefined;
  if (internetFacing) {
    redirectListener = loadBalancer.addListener('RedirectListener', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      open: false,
      defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
    });
    for (const client of clients) {
      securityGroup.addIngressRule(client, ec2.Port.tcp(80), 'OCR service clients (redirect to HTTPS)');
    }
    const reason = 'This listener only answers 301 to the HTTPS listener of the OCR service (no content, no forwarding), so it needs no certificate.';
    acknowledgeNagFindings(redirectListener, [
      { ruleId: 'NIST.800.53.R5-ELBv2ACMCertificateRequired', reason }, { ruleId: 'HIPAA.Security-ELBv2ACMCertificateRequired', reason },
    ]);
  }
  const webAclAssociation = props.webAclArn
    ? new wafv2.CfnWebACLAssociation(scope, 'WebAclAssociation', { resourceArn: loadBalancer.loadBalancerArn, webAclArn: props.webAclArn })
    : undefined;
  const resources = { securityGroup, loadBalancer, connections, listener, listenerPort, redirectListener, targetGroup, webAclAssociation };
  acknowledgeLoadBalancerFindings(props, resources, clients.length > 0);
  return resources;
}

/** Forward to the tasks, after the load balancer authenticates the caller when configured. */
function authenticatedForward(check: PropChecker, props: OcrServiceClusterProps, targetGroup: elbv2.ApplicationTargetGroup): elbv2.ListenerAction {
  const forward = elbv2.ListenerAction.forward([targetGroup]);
  if (props.jwtAuthentication) {
    // JWT validation on ALB is recent in aws-cdk-lib; fail clearly on an older peer version.
    if (typeof (elbv2.ListenerAction as { authenticateJwt?: unknown }).authenticateJwt !== 'function') {
      check.fail('jwtAuthentication', 'needs an aws-cdk-lib release with ListenerAction.authenticateJwt (2.276.0 is tested); upgrade aws-cdk-lib or use oidcAuthentication');
    }
    return elbv2.ListenerAction.authenticateJwt({ ...props.jwtAuthentication, next: forward });
  }
  if (props.cognitoAuthentication) {
    return new elbv2_actions.AuthenticateCognitoAction({ ...props.cognitoAuthentication, next: forward });
  }
  if (props.oidcAuthentication) {
    return elbv2.ListenerAction.authenticateOidc({
      ...props.oidcAuthentication,
      scope: props.oidcAuthentication.scope ?? 'openid',
      onUnauthenticatedRequest: elbv2.UnauthenticatedAction.AUTHENTICATE,
      next: forward,
    });
  }
  return forward;
}

/** By-design findings on the load balancer, each with its reason. */
function acknowledgeLoadBalancerFindings(props: OcrServiceClusterProps, resources: LoadBalancerResources, hasClients: boolean): void {
  const internetFacing = props.internetFacing ?? false;
  const acks = [];
  if (!props.webAclArn && !internetFacing) {
    const reason = 'The OCR service load balancer is internal (reachable from inside the VPC only); pass webAclArn to attach a WAF web ACL.';
    acks.push({ ruleId: 'NIST.800.53.R5-ALBWAFEnabled', reason });
  }
  if (!(props.loadBalancerDeletionProtection ?? false)) {
    const reason = 'The OCR service load balancer holds no data and is recreated with the stack; deletion protection would block stack deletion (set loadBalancerDeletionProtection to turn it on).';
    acks.push({ ruleId: 'NIST.800.53.R5-ELBDeletionProtectionEnabled', reason }, { ruleId: 'HIPAA.Security-ELBDeletionProtectionEnabled', reason });
  }
  if (acks.length > 0) acknowledgeNagFindings(resources.loadBalancer, acks);
  if (!props.certificate) {
    const reason = 'The internal OCR service listener uses HTTP inside the VPC only (no internet route; clients limited by security group); pass certificate and domainName for HTTPS.';
    acknowledgeNagFindings(resources.listener, [
      { ruleId: 'NIST.800.53.R5-ALBHttpToHttpsRedirection', reason }, { ruleId: 'HIPAA.Security-ALBHttpToHttpsRedirection', reason },
      { ruleId: 'NIST.800.53.R5-ELBv2ACMCertificateRequired', reason }, { ruleId: 'HIPAA.Security-ELBv2ACMCertificateRequired', reason },
    ]);
  }
  if (internetFacing && hasClients) {
    acknowledgeNagFindings(resources.securityGroup, [{
      ruleId: 'AwsSolutions-EC23',
      reason: 'The OCR service load balancer is internet-facing by explicit choice (internetFacing), HTTPS only, with authentication on the listener unless explicitly opted out.',
    }]);
  }
}
