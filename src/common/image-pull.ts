import { Annotations, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** Props of `PullThroughCacheImage.fromCache`. */
export interface PullThroughCacheImageProps {
  /**
   * The ECR repository prefix of the account's pull-through cache rule for the upstream registry,
   * e.g. `ecr-public` for a rule that caches `public.ecr.aws`. The rule must exist in the account and
   * Region (one rule per prefix).
   */
  readonly ecrRepositoryPrefix: string;
  /** The repository in the upstream registry, e.g. `aws-observability/aws-otel-collector`. */
  readonly upstreamRepository: string;
  /**
   * Image tag.
   * @default 'latest'
   */
  readonly tag?: string;
}

/**
 * An image from a public registry, pulled through the account's ECR pull-through cache, so that tasks
 * in private subnets without NAT can pull it through the VPC's ECR endpoints.
 *
 * It grants the task execution role what a pull through the cache needs: the usual ECR pull actions,
 * `ecr:BatchImportUpstreamImage` (ECR fetches the upstream image on a cache miss) and
 * `ecr:CreateRepository` (the first pull creates the cache repository), all limited to the one cache
 * repository.
 *
 * The very first pull of an image through the cache must come from a network with internet access:
 * over ECR's interface VPC endpoints alone it fails, later pulls do not. Pull each image and tag once
 * before tasks in subnets without NAT use it, e.g. `docker pull <account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<repository>:<tag>`
 * from a workstation or AWS CloudShell; synth says so in a warning.
 *
 * @see https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html
 * @see https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
 */
export class PullThroughCacheImage extends ecs.ContainerImage {
  /** An image of an upstream registry, through the account's pull-through cache rule for it. */
  public static fromCache(props: PullThroughCacheImageProps): PullThroughCacheImage {
    return new PullThroughCacheImage(props);
  }

  /** The cache repository's name: `<ecrRepositoryPrefix>/<upstreamRepository>`. */
  public readonly repositoryName: string;
  private readonly tag: string;

  private constructor(props: PullThroughCacheImageProps) {
    super();
    const prefix = props.ecrRepositoryPrefix.replace(/\/+$/, '');
    if (!/^[a-z0-9][a-z0-9._/-]*$/.test(prefix) || !/^[a-z0-9][a-z0-9._/-]*$/.test(props.upstreamRepository)) {
      throw new Error(`PullThroughCacheImage: 'ecrRepositoryPrefix' and 'upstreamRepository' must be lower-case ECR repository names, got '${props.ecrRepositoryPrefix}' and '${props.upstreamRepository}'`);
    }
    this.repositoryName = `${prefix}/${props.upstreamRepository}`;
    this.tag = props.tag ?? 'latest';
  }

  public bind(scope: Construct, containerDefinition: ecs.ContainerDefinition): ecs.ContainerImageConfig {
    const stack = Stack.of(scope);
    const repositoryArn = stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: this.repositoryName });
    const role = containerDefinition.taskDefinition.obtainExecutionRole();
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage', 'ecr:BatchImportUpstreamImage', 'ecr:CreateRepository'],
      resources: [repositoryArn],
    }));
    // GetAuthorizationToken supports no resource-level permissions.
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
    Annotations.of(containerDefinition).addWarningV2('cdk-ocr-constructs:pullThroughCacheFirstPull',
      `${this.repositoryName}:${this.tag} comes through an ECR pull-through cache. Its first pull must come from a network with internet access `
      + '(over ECR\'s VPC endpoints alone it fails): pull it once, e.g. with docker pull from a workstation or AWS CloudShell, before tasks in subnets without NAT start.');
    return { imageName: `${stack.account}.dkr.ecr.${stack.region}.${stack.urlSuffix}/${this.repositoryName}:${this.tag}` };
  }
}

/**
 * The registry host of an image name when it is not an ECR private registry, e.g. `public.ecr.aws`,
 * `docker.io` or `ghcr.io`; undefined for ECR and for names that are not known at synth.
 */
export function nonEcrRegistryOf(imageName: string): string | undefined {
  if (Token.isUnresolved(imageName)) return undefined;
  const first = imageName.split('/')[0];
  const host = imageName.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
  return /\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(host) ? undefined : host;
}

/**
 * Whether tasks in these subnets have no route to the internet: every selected subnet is isolated
 * (a CostOptimizedVpc's workload subnets are), so only ECR, through its VPC endpoints, is reachable.
 */
export function subnetsWithoutInternet(vpc: ec2.IVpc, selection: ec2.SubnetSelection): boolean {
  const selected = vpc.selectSubnets(selection).subnets;
  const isolated = new Set(vpc.isolatedSubnets.map((s) => s.node.path));
  return selected.length > 0 && selected.every((s) => isolated.has(s.node.path));
}

/**
 * The synth-time error for an image that tasks in subnets without internet access cannot pull, or
 * undefined when the image can be pulled.
 */
export function imagePullProblem(imageName: string, withoutInternet: boolean): string | undefined {
  const registry = nonEcrRegistryOf(imageName);
  if (!registry || !withoutInternet) return undefined;
  return `is pulled from ${registry}, which tasks in private subnets without NAT cannot reach (only ECR is, through the VPC endpoints): push it to your ECR repository or use PullThroughCacheImage.fromCache() with an ECR pull-through cache rule`;
}
