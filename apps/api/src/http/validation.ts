import type { PipeTransform } from '@nestjs/common';
import { InvalidInputError } from '@keyledger/domain';
import type { z } from 'zod';

/**
 * Validates a body or query against a strict zod schema: unknown fields, wrong types and
 * out-of-range values are refused with every issue listed.
 */
export class Validate<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(
    private readonly schema: S,
    private readonly where: 'body' | 'query' = 'body',
  ) {}

  transform(value: unknown): z.infer<S> {
    const result = this.schema.safeParse(value === undefined ? {} : value);
    if (result.success) return result.data;
    const errors = result.error.issues.map((issue) => ({
      path: issue.path.join('.') || '(root)',
      message: issue.message,
    }));
    throw new InvalidInputError(
      `Invalid request ${this.where}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
      { errors },
    );
  }
}
