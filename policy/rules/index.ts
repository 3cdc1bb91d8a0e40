/** Every modelship rule, grouped by what it checks. */
export * from "./rule";
export * from "./ecr";
export * from "./eks";
export * from "./iam";
export * from "./kubernetes";
export * from "./signing";
