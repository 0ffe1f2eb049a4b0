import { FARGATE_VCPUS, fargateMemoryChoicesMiB, fargateSizeProblem } from './fargate-sizes';

describe('Fargate task sizes', () => {
  test('GIVEN each vCPU count THEN the memory choices are the documented ones', () => {
    expect(fargateMemoryChoicesMiB(0.25)).toEqual([512, 1024, 2048]);
    expect(fargateMemoryChoicesMiB(0.5)).toEqual([1024, 2048, 3072, 4096]);
    expect(fargateMemoryChoicesMiB(2)).toHaveLength(13); // 4-16 GiB by 1 GiB
    expect(fargateMemoryChoicesMiB(4)?.at(-1)).toBe(30720);
    expect(fargateMemoryChoicesMiB(8)).toEqual([16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60].map((g) => g * 1024));
    expect(fargateMemoryChoicesMiB(16)).toEqual([32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120].map((g) => g * 1024));
    expect(fargateMemoryChoicesMiB(3)).toBeUndefined();
  });

  test('GIVEN every documented combination THEN none is refused; GIVEN one between increments THEN memory is named', () => {
    for (const vcpu of FARGATE_VCPUS) {
      for (const memory of fargateMemoryChoicesMiB(vcpu)!) expect(fargateSizeProblem(vcpu, memory)).toBeUndefined();
    }
    expect(fargateSizeProblem(2, 5632)?.prop).toBe('memory');
    expect(fargateSizeProblem(0.25, 1536)?.prop).toBe('memory');
    expect(fargateSizeProblem(3, 4096)?.prop).toBe('cpu');
  });
});
