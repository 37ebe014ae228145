// Package greet is a second package, so a rebuild shows whether it came from the build cache.
package greet

import "strings"

func Greeting(who string) string {
	return "hello " + strings.ToUpper(who)
}
