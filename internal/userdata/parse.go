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
	doc, err := Decode([]byte(data))
	if err != nil {
		return out, err
	}
	if !strings.HasPrefix(strings.ToLower(doc), "content-type: multipart/") {
		out.User = doc
		return out, nil
	}
	msg, err := mail.ReadMessage(strings.NewReader(doc))
	if err != nil {
		return out, fmt.Errorf("reading user data headers: %w", err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return out, fmt.Errorf("reading user data content type: %w", err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("reading user data part: %w", err)
		}
		raw, err := io.ReadAll(p)
		if err != nil {
			return out, fmt.Errorf("reading user data part %s: %w", p.FileName(), err)
		}
		content := string(raw)
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(content, "\n", ""))
			if err != nil {
				return out, fmt.Errorf("decoding user data part %s: %w", p.FileName(), err)
			}
			content = string(dec)
		}
		switch p.FileName() {
		case UserPartFilename:
			out.User = content
		case SyncAgentFilename:
			out.SyncAgent = content
		case MasterPartFilename:
			out.EnvFile, out.DisableServices = parseMasterPart(content)
		}
	}
}
