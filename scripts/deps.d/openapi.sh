# The OpenAPI tests (codegen/openapi): Redocly's linter validates the
# generated documents, openapi-typescript and tsc consume them.
npm_ci codegen/openapi/testdata/node
