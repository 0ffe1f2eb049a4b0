/**
 * The task sizes Fargate accepts: for each vCPU count, the memory values allowed with it. A size
 * outside these fails at deploy (ECS: the task definition is refused; Batch: the job stays RUNNABLE
 * or the job definition is refused), so the constructs check them at synth.
 *
 * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
 * @see https://docs.aws.amazon.com/batch/latest/APIReference/API_ResourceRequirement.html
 */
const FARGATE_MEMORY_MIB: { readonly [vcpu: string]: { readonly min: number; readonly max: number; readonly step: number } } = {
  // 0.25 vCPU takes 512 MiB, 1 GiB or 2 GiB (no 1.5 GiB): listed apart below.
  0.5: { min: 1024, max: 4096, step: 1024 },
  1: { min: 2048, max: 8192, step: 1024 },
  2: { min: 4096, max: 16384, step: 1024 },
  4: { min: 8192, max: 30720, step: 1024 },
  8: { min: 16384, max: 61440, step: 4096 },
  16: { min: 32768, max: 122880, step: 8192 },
};
const QUARTER_VCPU_MIB = [512, 1024, 2048];

/** The vCPU counts Fargate accepts. */
export const FARGATE_VCPUS = [0.25, 0.5, 1, 2, 4, 8, 16];

/** The memory values (MiB) Fargate accepts with `vcpu`, or undefined for a vCPU count it does not take. */
export function fargateMemoryChoicesMiB(vcpu: number): number[] | undefined {
  if (vcpu === 0.25) return QUARTER_VCPU_MIB;
  const range = FARGATE_MEMORY_MIB[String(vcpu)];
  if (!range) return undefined;
  const values: number[] = [];
  for (let m = range.min; m <= range.max; m += range.step) values.push(m);
  return values;
}

/** Memory values for a message: "4096-16384 MiB in steps of 1024" or "512, 1024 or 2048 MiB". */
function describeChoices(vcpu: number): string {
  if (vcpu === 0.25) return '512, 1024 or 2048 MiB';
  const range = FARGATE_MEMORY_MIB[String(vcpu)];
  return `${range.min}-${range.max} MiB in steps of ${range.step}`;
}

/**
 * What is wrong with a Fargate task size, naming the prop to change, or undefined when Fargate
 * accepts it.
 */
export function fargateSizeProblem(vcpu: number, memoryMiB: number): { readonly prop: 'cpu' | 'memory'; readonly problem: string } | undefined {
  const choices = fargateMemoryChoicesMiB(vcpu);
  if (!choices) return { prop: 'cpu', problem: `must be one of ${FARGATE_VCPUS.join(', ')} vCPU (Fargate task sizes), got ${vcpu}` };
  if (!choices.includes(memoryMiB)) {
    return { prop: 'memory', problem: `must be ${describeChoices(vcpu)} with ${vcpu} vCPU on Fargate, got ${memoryMiB} MiB` };
  }
  return undefined;
}
