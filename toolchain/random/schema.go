package main

import "encoding/json"

// schemaJSON is a small Pulumi package schema of our own describing the two
// resources this plugin serves. It is not the upstream schema (no language
// sections, no docs beyond one line per property).
var schemaJSON = mustSchema()

func mustSchema() string {
	b, err := json.MarshalIndent(buildSchema(), "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b)
}

type obj = map[string]any

func buildSchema() obj {
	boolean := func(desc string) obj {
		return obj{"type": "boolean", "description": desc, "willReplaceOnChanges": true}
	}
	integer := func(desc string) obj {
		return obj{"type": "integer", "description": desc, "willReplaceOnChanges": true}
	}
	inputs := func() obj {
		return obj{
			pKeepers: obj{
				"type":                 "object",
				"additionalProperties": obj{"$ref": "pulumi.json#/Any"},
				"description":          "Arbitrary values whose change forces a new result.",
				"willReplaceOnChanges": true,
			},
			pLength:  integer("Length of the result (at least 1, at least the sum of the min* counts)."),
			pLower:   boolean("Include lowercase letters. Default true."),
			pUpper:   boolean("Include uppercase letters. Default true."),
			pNumeric: boolean("Include digits. Default true."),
			pNumber: obj{"type": "boolean", "description": "Deprecated alias of numeric.",
				"deprecationMessage": "Use numeric instead.", "willReplaceOnChanges": true},
			pSpecial: boolean("Include special characters. Default true."),
			pOverrideSpecial: obj{"type": "string", "willReplaceOnChanges": true,
				"description": "Special characters to use instead of the default set " + defaultSpecialChars + "."},
			pMinLower:   integer("Minimum count of lowercase letters. Default 0."),
			pMinUpper:   integer("Minimum count of uppercase letters. Default 0."),
			pMinNumeric: integer("Minimum count of digits. Default 0."),
			pMinSpecial: integer("Minimum count of special characters. Default 0."),
		}
	}
	required := []string{pLength, pLower, pMinLower, pMinNumeric, pMinSpecial, pMinUpper,
		pNumber, pNumeric, pResult, pSpecial, pUpper}

	passwordProps := inputs()
	passwordProps[pResult] = obj{"type": "string", "secret": true, "description": "The generated password."}
	passwordProps[pBcryptHash] = obj{"type": "string", "secret": true, "description": "bcrypt hash of the result."}
	stringProps := inputs()
	stringProps[pResult] = obj{"type": "string", "description": "The generated string (not secret)."}

	return obj{
		"name":        providerName,
		"displayName": "random (secrets-platform offline build)",
		"version":     providerVersion,
		"description": "RandomPassword and RandomString, served by secrets-platform's own offline plugin.",
		"meta":        obj{"moduleFormat": "(.*)(?:/[^/]*)"},
		"provider":    obj{"description": "The random provider has no configuration."},
		"resources": obj{
			passwordToken: obj{
				"description":     "A random password; result and bcryptHash are secrets.",
				"properties":      passwordProps,
				"required":        append(required, pBcryptHash),
				"inputProperties": inputs(),
				"requiredInputs":  []string{pLength},
			},
			stringToken: obj{
				"description":     "A random string; result is not a secret.",
				"properties":      stringProps,
				"required":        required,
				"inputProperties": inputs(),
				"requiredInputs":  []string{pLength},
			},
		},
	}
}
