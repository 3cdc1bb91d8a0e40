/**
 * One rule for arguments a user may compute (`role.arn`, a subnet's CIDR): a plain value is checked at construction,
 * an Output when it resolves, both with the same message, so a bad Output fails the update naming the field and the fix.
 */
import * as pulumi from "@pulumi/pulumi";
import { type ArgChecker, InvalidArgumentError } from "./validation";

/** What is wrong with a value, said after the field name (`"x" is not an IAM role ARN (e.g. ...)`), or undefined when fine. */
export type Problem<T> = (value: T) => string | undefined;

/** Where a problem is reported: component, instance name and field. */
export interface InputField {
    component: string;
    name: string;
    field: string;
}

/** True when `value` is known now: neither an Output nor a promise. Pure. */
export function isPlain<T>(value: pulumi.Input<T>): value is T {
    return !pulumi.Output.isInstance(value) && !(value instanceof Promise);
}

/**
 * Records the problem of a plain `value` in `c` (so that every problem is reported at once); an Output or promise is
 * left to {@link checkInput}, which checks it when it resolves.
 */
export function checkPlain<T>(c: ArgChecker, field: string, value: pulumi.Input<T> | undefined, problem: Problem<T>): void {
    if (value === undefined || !isPlain(value)) return;
    const p = problem(value);
    c.check(p === undefined, field, p ?? "");
}

/**
 * `value` as an Output checked by `problem`: now when it is plain (throwing at construction), else when it resolves
 * (throwing inside the apply, which fails the update). The error is the construction-time one, naming the field.
 */
export function checkInput<T>(at: InputField, value: pulumi.Input<T>, problem: Problem<T>): pulumi.Output<T> {
    const fail = (v: T): T => {
        const p = problem(v);
        if (p !== undefined) throw new InvalidArgumentError(at.component, at.name, at.field, p);
        return v;
    };
    if (isPlain(value)) fail(value);
    return (pulumi.output(value) as unknown as pulumi.Output<T>).apply(fail);
}

/** {@link checkInput} on each element of a plain array of Inputs, the field suffixed `[i]`. */
export function checkInputs<T>(at: InputField, values: pulumi.Input<T>[], problem: Problem<T>): pulumi.Output<T>[] {
    return values.map((v, i) => checkInput({ ...at, field: `${at.field}[${i}]` }, v, problem));
}
