// A TypeScript caller of the quickstart's test-api and CPU load balancer,
// typed by openapi-typescript from their OpenAPI documents
// (.flash/openapi/<dir>.json). The test compiles it with tsc --strict.
import type { components as API, paths as APIPaths } from "./test-api";
import type { paths as CPUPaths } from "./cpu";

type Item = API["schemas"]["Item"];
type GetItemQuery = NonNullable<APIPaths["/items/{id}"]["get"]["parameters"]["query"]>;
type TransformBody = CPUPaths["/transform"]["post"]["requestBody"]["content"]["application/json"];
type Transformed = CPUPaths["/transform"]["post"]["responses"][200]["content"]["application/json"];
type ErrorBody = APIPaths["/items/{id}"]["get"]["responses"][404]["content"]["application/json"];

async function call<T>(res: Promise<Response>): Promise<T> {
  const r = await res;
  if (!r.ok) {
    const body = (await r.json()) as ErrorBody;
    throw new Error(`${r.status}: ${body.error}`);
  }
  return (await r.json()) as T;
}

// GET /items/{id}?verbose=...
export function getItem(base: string, id: string, query: GetItemQuery = {}): Promise<Item> {
  const url = new URL(`items/${encodeURIComponent(id)}`, base);
  if (query.verbose !== undefined) url.searchParams.set("verbose", String(query.verbose));
  return call<Item>(fetch(url));
}

// POST /transform {"text", "operation"?}
export function transform(base: string, body: TransformBody): Promise<Transformed> {
  return call<Transformed>(
    fetch(new URL("transform", base), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
}

export async function main(base: string): Promise<string> {
  const item = await getItem(base + "/test-api/", "1", { verbose: true });
  const price: number = item.price;
  const tags: string[] = item.tags ?? [];
  const out = await transform(base + "/03_05_load_balancer_cpu/", { text: item.name, operation: "reverse" });
  const result: string = out.result;
  return `${item.id} ${price} ${tags.join(",")} ${result}`;
}
