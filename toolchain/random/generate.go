package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/bcrypt"
)

// Character classes. The default special set is the one users of
// random_password know; overrideSpecial replaces it when non-empty.
const (
	lowerChars          = "abcdefghijklmnopqrstuvwxyz"
	upperChars          = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	numericChars        = "0123456789"
	defaultSpecialChars = "!@#$%&*()-_=+[]{}<>:?"
)

// params are the generation settings after defaults have been applied.
type params struct {
	Length          int
	Lower           bool
	Upper           bool
	Numeric         bool
	Special         bool
	OverrideSpecial string
	MinLower        int
	MinUpper        int
	MinNumeric      int
	MinSpecial      int
}

func (p params) specialChars() string {
	if p.OverrideSpecial != "" {
		return p.OverrideSpecial
	}
	return defaultSpecialChars
}

// class is one enabled character class and how many of its characters the
// result must at least contain.
type class struct {
	name  string // input property name of the class switch
	chars string
	min   int
}

func (p params) classes() []class {
	all := []class{
		{"lower", lowerChars, p.MinLower},
		{"upper", upperChars, p.MinUpper},
		{"numeric", numericChars, p.MinNumeric},
		{"special", p.specialChars(), p.MinSpecial},
	}
	enabled := []bool{p.Lower, p.Upper, p.Numeric, p.Special}
	var out []class
	for i, c := range all {
		if enabled[i] {
			out = append(out, c)
		}
	}
	return out
}

// validate reports every problem with p as (property, reason) pairs.
func (p params) validate() []failure {
	var fs []failure
	if p.Length < 1 {
		fs = append(fs, failure{"length", fmt.Sprintf("length must be at least 1, got %d", p.Length)})
	}
	mins := []struct {
		prop, class string
		n           int
		on          bool
	}{
		{"minLower", "lower", p.MinLower, p.Lower},
		{"minUpper", "upper", p.MinUpper, p.Upper},
		{"minNumeric", "numeric", p.MinNumeric, p.Numeric},
		{"minSpecial", "special", p.MinSpecial, p.Special},
	}
	sum := 0
	for _, m := range mins {
		if m.n < 0 {
			fs = append(fs, failure{m.prop, fmt.Sprintf("%s must be at least 0, got %d", m.prop, m.n)})
			continue
		}
		if m.n > 0 && !m.on {
			fs = append(fs, failure{m.prop, fmt.Sprintf("%s is %d but %s is false", m.prop, m.n, m.class)})
		}
		sum += m.n
	}
	if p.Length >= 1 && sum > p.Length {
		fs = append(fs, failure{"length", fmt.Sprintf(
			"length (%d) must be at least the sum of minLower, minUpper, minNumeric and minSpecial (%d)", p.Length, sum)})
	}
	if !p.Lower && !p.Upper && !p.Numeric && !p.Special {
		fs = append(fs, failure{"", "at least one of lower, upper, numeric and special must be true"})
	}
	return fs
}

type failure struct {
	property string
	reason   string
}

// generate returns a random string for p, drawn with crypto/rand: first the
// minimum count of each enabled class, then the rest from all enabled classes,
// then shuffled.
func generate(p params) (string, error) {
	if fs := p.validate(); len(fs) > 0 {
		return "", errors.New(fs[0].reason)
	}
	classes := p.classes()
	var all []rune
	for _, c := range classes {
		all = append(all, []rune(c.chars)...)
	}
	out := make([]rune, 0, p.Length)
	for _, c := range classes {
		for range c.min {
			b, err := pick([]rune(c.chars))
			if err != nil {
				return "", err
			}
			out = append(out, b)
		}
	}
	for len(out) < p.Length {
		b, err := pick(all)
		if err != nil {
			return "", err
		}
		out = append(out, b)
	}
	// Fisher-Yates, so the guaranteed characters are not all at the front.
	for i := len(out) - 1; i > 0; i-- {
		j, err := randIntn(i + 1)
		if err != nil {
			return "", err
		}
		out[i], out[j] = out[j], out[i]
	}
	return string(out), nil
}

// pick works on runes so a non-ASCII overrideSpecial stays valid UTF-8.
func pick(chars []rune) (rune, error) {
	i, err := randIntn(len(chars))
	if err != nil {
		return 0, err
	}
	return chars[i], nil
}

// randIntn returns a uniform integer in [0, n) from crypto/rand.
func randIntn(n int) (int, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, fmt.Errorf("reading random bytes: %w", err)
	}
	return int(v.Int64()), nil
}

// bcryptMaxBytes is the most bcrypt looks at; newer x/crypto refuses longer
// input, so longer results are hashed on their first 72 bytes, which is what
// every bcrypt implementation effectively checks.
const bcryptMaxBytes = 72

func bcryptHash(result string) (string, error) {
	b := []byte(result)
	if len(b) > bcryptMaxBytes {
		b = b[:bcryptMaxBytes]
	}
	h, err := bcrypt.GenerateFromPassword(b, bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("bcrypt: %w", err)
	}
	return string(h), nil
}
