// Package userdata assembles the user data of clone instances as a
// cloud-init MIME multipart document that is identical byte for byte for
// identical input, so an unchanged configuration never rolls the pool.
package userdata

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Content types of the parts cloud-init understands.
const (
	ContentTypeCloudConfig        = "text/cloud-config"
	ContentTypeCloudConfigArchive = "text/cloud-config-archive"
	ContentTypeJSONPatch          = "text/cloud-config-jsonp"
	ContentTypeShellScript        = "text/x-shellscript"
	ContentTypeBoothook           = "text/cloud-boothook"
	ContentTypeIncludeURL         = "text/x-include-url"
	ContentTypePartHandler        = "text/part-handler"
	ContentTypeJinja2             = "text/jinja2"
	ContentTypePlain              = "text/plain"
	ContentTypeBinary             = "application/octet-stream"
)

// MergeType makes cloud-config parts append to each other's lists instead of
// replacing them, so the user's own bootcmd or write_files does not erase the
// pool's, while the user's scalar settings still win.
const MergeType = "list(append)+dict(recurse_array)+str()"

// UserPartFilename names the part that carries the user's own user_data.
const UserPartFilename = "user-data"

// Part is one document inside the multipart user data.
type Part struct {
	Filename    string
	ContentType string
	Content     string
}

var (
	contentTypeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$`)
	filenameRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
)

var userPrefixes = []struct {
	prefix      string
	contentType string
}{
	{"#cloud-config-archive", ContentTypeCloudConfigArchive},
	{"#cloud-config-jsonp", ContentTypeJSONPatch},
	{"#cloud-config", ContentTypeCloudConfig},
	{"#cloud-boothook", ContentTypeBoothook},
	{"#include", ContentTypeIncludeURL},
	{"#part-handler", ContentTypePartHandler},
	{"## template: jinja", ContentTypeJinja2},
	{"#!", ContentTypeShellScript},
}

// DetectContentType tells the content type of user data the way cloud-init
// does, from its first line.
func DetectContentType(content string) string {
	for _, p := range userPrefixes {
		if strings.HasPrefix(content, p.prefix) {
			return p.contentType
		}
	}
	if !utf8.ValidString(content) || strings.ContainsRune(content, 0) {
		return ContentTypeBinary
	}
	return ContentTypePlain
}

// Assemble returns the MIME multipart document made of parts, in their order,
// followed by userPart, the user's own user_data, as the last part. Without
// pool parts the user's data is returned unchanged.
func Assemble(parts []Part, userPart string) (string, error) {
	if len(parts) == 0 {
		return userPart, nil
	}
	if isMultipart(userPart) {
		return "", errors.New("user_data is already a MIME multipart document; pass a single cloud-config or script instead")
	}

	all := make([]Part, 0, len(parts)+1)
	seen := make(map[string]bool, len(parts)+1)
	for i, p := range parts {
		if err := validatePart(p); err != nil {
			return "", fmt.Errorf("user data part %d (%s): %w", i+1, p.Filename, err)
		}
		if seen[p.Filename] {
			return "", fmt.Errorf("user data part %d: duplicate filename %q", i+1, p.Filename)
		}
		seen[p.Filename] = true
		all = append(all, p)
	}
	if userPart != "" {
		if seen[UserPartFilename] {
			return "", fmt.Errorf("user data part filename %q is reserved for the user's own user_data", UserPartFilename)
		}
		all = append(all, Part{Filename: UserPartFilename, ContentType: DetectContentType(userPart), Content: userPart})
	}

	boundary := boundaryFor(all)

	var b strings.Builder
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\n", boundary)
	b.WriteString("MIME-Version: 1.0\n")
	for _, p := range all {
		fmt.Fprintf(&b, "\n--%s\n", boundary)
		writePart(&b, p)
	}
	fmt.Fprintf(&b, "\n--%s--\n", boundary)
	return b.String(), nil
}

func validatePart(p Part) error {
	if !filenameRE.MatchString(p.Filename) {
		return fmt.Errorf("invalid filename %q: use letters, digits, '.', '_' and '-' (at most 128)", p.Filename)
	}
	if !contentTypeRE.MatchString(p.ContentType) {
		return fmt.Errorf("invalid content type %q", p.ContentType)
	}
	return nil
}

func isMultipart(s string) bool {
	head, _, _ := strings.Cut(s, "\n")
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(head)), "content-type: multipart/")
}

// boundaryFor derives the boundary from the parts themselves and makes sure
// it occurs in none of them.
func boundaryFor(parts []Part) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\x00%d:%s\x00%d:%s\x00", len(p.Filename), p.Filename, len(p.ContentType), p.ContentType, len(p.Content), p.Content)
	}
	sum := h.Sum(nil)
	for {
		boundary := "==CLONE-" + hex.EncodeToString(sum[:16]) + "=="
		if !anyContains(parts, boundary) {
			return boundary
		}
		next := sha256.Sum256(sum)
		sum = next[:]
	}
}

func anyContains(parts []Part, s string) bool {
	for _, p := range parts {
		if strings.Contains(p.Content, s) {
			return true
		}
	}
	return false
}

func writePart(b *strings.Builder, p Part) {
	body, encoding, charset := encode(p.Content)
	fmt.Fprintf(b, "Content-Type: %s; charset=\"%s\"\n", p.ContentType, charset)
	b.WriteString("MIME-Version: 1.0\n")
	fmt.Fprintf(b, "Content-Transfer-Encoding: %s\n", encoding)
	fmt.Fprintf(b, "Content-Disposition: attachment; filename=\"%s\"\n", p.Filename)
	if p.ContentType == ContentTypeCloudConfig {
		fmt.Fprintf(b, "Merge-Type: %s\n", MergeType)
	}
	b.WriteString("\n")
	b.WriteString(body)
}

// encode keeps plain ASCII text readable and base64-encodes anything that
// would not survive as 7bit MIME text.
func encode(content string) (body, encoding, charset string) {
	if is7bit(content) {
		return content, "7bit", "us-ascii"
	}
	const width = 76
	enc := base64.StdEncoding.EncodeToString([]byte(content))
	var b strings.Builder
	for len(enc) > width {
		b.WriteString(enc[:width])
		b.WriteString("\n")
		enc = enc[width:]
	}
	b.WriteString(enc)
	return b.String(), "base64", "utf-8"
}

func is7bit(s string) bool {
	lineLen := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			lineLen = 0
			continue
		case c == 0, c == '\r', c >= 0x80:
			return false
		}
		lineLen++
		if lineLen > 998 {
			return false
		}
	}
	return true
}
