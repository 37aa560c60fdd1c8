// Command pulumi-resource-kubernetes serves the Kubernetes provider from the
// published provider module.
//
// The upstream main package embeds files that are generated at release time
// and are therefore missing from the module zip. This replacement embeds the
// schema and mapping files that the Makefile extracts from the module cache
// (see toolchain/embed_schema.py) and hands them to the provider's Serve.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var mapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, mapping)
}
