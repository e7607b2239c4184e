// Misuses the generated types: tsc must reject it, which shows the types
// are the document's and not `any`.
import type { components } from "./test-api";
import type { paths as CPUPaths } from "./cpu";

type TransformBody = CPUPaths["/transform"]["post"]["requestBody"]["content"]["application/json"];

export const item: components["schemas"]["Item"] = { id: "1", name: "Widget", price: "cheap" };
export const body: TransformBody = { operation: "reverse" };
