export * from "./TargetGroupBinding";
