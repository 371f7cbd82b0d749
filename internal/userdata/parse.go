package userdata

import (
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
)

// Parsed is what import recovers from the user data of a launch
// template: the user's own part and the master settings the pool rendered.
type Parsed struct {
	User            string
	EnvFile         string
	DisableServices []string
	// SyncAgent is the sync agent's cloud-init part as rendered.
	SyncAgent string
}

// SyncAgentFilename names the sync agent's cloud-init part.
const SyncAgentFilename = "clone-sync-agent.cfg"

// Parse splits user data userdata.Render made (gzip-compressed or
// not) back into its parts. A document that is not multipart is the user's
// own user data.
func Parse(data string) (Parsed, error) {
	var out Parsed
	parts, err := Split([]byte(data))
	if err != nil {
		return out, err
	}
	for _, p := range parts {
		switch p.Filename {
		case UserPartFilename:
			out.User = p.Content
		case SyncAgentFilename:
			out.SyncAgent = p.Content
		case MasterPartFilename:
			out.EnvFile, out.DisableServices = parseMasterPart(p.Content)
		}
	}
	return out, nil
}

// Split decodes user data as a launch template holds it (after base64:
// gzip-compressed or not) into its parts, as cloud-init reads them: the
// parts of a MIME multipart document with base64 bodies decoded, or else
// the whole document as one part named UserPartFilename.
func Split(data []byte) ([]Part, error) {
	doc, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(strings.ToLower(doc), "content-type: multipart/") {
		return []Part{{Filename: UserPartFilename, ContentType: DetectContentType(doc), Content: doc}}, nil
	}
	msg, err := mail.ReadMessage(strings.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("reading user data headers: %w", err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("reading user data content type: %w", err)
	}
	var out []Part
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading user data part: %w", err)
		}
		raw, err := io.ReadAll(p)
		if err != nil {
			return nil, fmt.Errorf("reading user data part %s: %w", p.FileName(), err)
		}
		content := string(raw)
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(content, "\n", ""))
			if err != nil {
				return nil, fmt.Errorf("decoding user data part %s: %w", p.FileName(), err)
			}
			content = string(dec)
		}
		ct, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			ct = p.Header.Get("Content-Type") // as written; Parse goes by file name
		}
		out = append(out, Part{Filename: p.FileName(), ContentType: ct, Content: content})
	}
}
