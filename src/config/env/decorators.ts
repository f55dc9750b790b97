import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsNumber, Max, Min, ValidationOptions } from 'class-validator';
import { parseDuration } from '../duration';

/** Keeps the raw value when it is not a boolean word, so validation reports it instead of guessing. */
export function EnvBoolean(): PropertyDecorator {
  const transform = Transform(({ value }) => {
    if (typeof value === 'boolean') return value;
    const word = String(value).trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(word)) return true;
    if (['false', '0', 'no', 'off'].includes(word)) return false;
    return value;
  });
  const check = IsBoolean({ message: 'must be true or false' });
  return (target, key) => {
    transform(target, key);
    check(target, key);
  };
}

export function EnvInt(min: number, max: number): PropertyDecorator {
  const transform = Transform(({ value }) =>
    typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value,
  );
  const options: ValidationOptions = { message: `must be a whole number from ${min} to ${max}` };
  const decorators = [IsInt(options), Min(min, options), Max(max, options)];
  return (target, key) => {
    transform(target, key);
    decorators.forEach((decorate) => decorate(target, key));
  };
}

/** A duration in milliseconds, written as `30s`, `15m`, `7d` or plain milliseconds. */
export function EnvDuration(min = 0): PropertyDecorator {
  const transform = Transform(({ value }) => parseDuration(value) ?? value);
  const options: ValidationOptions = {
    message: `must be a duration such as 30s, 15m, 7d or a number of milliseconds (at least ${min} ms)`,
  };
  const decorators = [IsNumber({}, options), Min(min, options)];
  return (target, key) => {
    transform(target, key);
    decorators.forEach((decorate) => decorate(target, key));
  };
}

/** A decimal number in [min, max], for rates such as 0.05. */
export function EnvNumber(min: number, max: number): PropertyDecorator {
  const transform = Transform(({ value }) =>
    typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value,
  );
  const options: ValidationOptions = { message: `must be a number from ${min} to ${max}` };
  const decorators = [IsNumber({}, options), Min(min, options), Max(max, options)];
  return (target, key) => {
    transform(target, key);
    decorators.forEach((decorate) => decorate(target, key));
  };
}
