import { Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * A bad construct prop, reported at synth with the construct's type, its id and the prop:
 * `CostOptimizedVpc 'Network': 'maxAzs' must be at least 1, got 0`.
 */
export class PropError extends Error {
  constructor(constructType: string, scope: Construct | string, prop: string, problem: string) {
    const id = typeof scope === 'string' ? scope : scope.node.id;
    super(`${constructType} '${id}': '${prop}' ${problem}`);
    this.name = 'PropError';
  }
}

/** Validates numeric props, skipping unresolved tokens (they are checked by CloudFormation). */
export class PropChecker {
  constructor(private readonly constructType: string, private readonly id: string) {}

  fail(prop: string, problem: string): never {
    throw new PropError(this.constructType, this.id, prop, problem);
  }

  integerInRange(prop: string, value: number | undefined, min: number, max: number): void {
    if (value === undefined || Token.isUnresolved(value)) return;
    if (!Number.isInteger(value) || value < min || value > max) {
      this.fail(prop, `must be an integer from ${min} to ${max}, got ${value}`);
    }
  }

  numberInRange(prop: string, value: number | undefined, min: number, max: number): void {
    if (value === undefined || Token.isUnresolved(value)) return;
    if (!Number.isFinite(value) || value < min || value > max) {
      this.fail(prop, `must be from ${min} to ${max}, got ${value}`);
    }
  }

  check(condition: boolean, prop: string, problem: string): void {
    if (!condition) this.fail(prop, problem);
  }
}
