package newcomer

import (
	"bufio"
	"regexp"
	"strings"
)

// A Snippet is one fenced HCL code block of a Markdown file.
type Snippet struct {
	// Line is the 1-based line of the opening fence.
	Line int
	// Fragment is set by the info string word "fragment" (```terraform
	// fragment): the block continues the configuration of the snippets above
	// it in the same file instead of being a whole configuration.
	Fragment bool
	// CLIConfig is set by the info string word "cli-config" (```hcl
	// cli-config): the block is a Terraform CLI configuration file, not a
	// Terraform configuration.
	CLIConfig bool
	Text      string
}

// hclLanguages are the info strings (first word) of the blocks checked.
var hclLanguages = map[string]bool{"hcl": true, "terraform": true, "tf": true}

var fenceRe = regexp.MustCompile("^([ \t]*)(`{3,}|~{3,})[ \t]*([^`]*)$")

// Snippets returns the fenced code blocks of markdown whose language is
// hcl, terraform or tf. A block indented under a list item loses the
// indentation of its opening fence.
func Snippets(markdown string) []Snippet {
	var (
		out    []Snippet
		open   bool
		fence  string
		indent string
		keep   bool
		cur    Snippet
		body   strings.Builder
	)
	sc := bufio.NewScanner(strings.NewReader(markdown))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if !open {
			m := fenceRe.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			open, indent, fence = true, m[1], m[2]
			words := strings.Fields(m[3])
			keep = len(words) > 0 && hclLanguages[strings.ToLower(words[0])]
			cur = Snippet{Line: n}
			for i, w := range words {
				switch {
				case i > 0 && w == "fragment":
					cur.Fragment = true
				case i > 0 && w == "cli-config":
					cur.CLIConfig = true
				}
			}
			body.Reset()
			continue
		}
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, fence[:1]) && strings.Trim(trimmed, fence[:1]) == "" && len(trimmed) >= len(fence) {
			open = false
			if keep {
				cur.Text = body.String()
				out = append(out, cur)
			}
			continue
		}
		body.WriteString(strings.TrimPrefix(line, indent))
		body.WriteByte('\n')
	}
	return out
}
