package syncagent

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// KeyComment ends every authorized key line this package renders.
const KeyComment = "clone-sync"

// GenerateKey creates an ed25519 key pair. The private key is an OpenSSH
// PEM block ("OPENSSH PRIVATE KEY") for the paths' SecureString parameter;
// the public key is in authorized_keys form without a comment.
func GenerateKey() (privateOpenSSHPEM []byte, publicAuthorizedKey string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("generating ed25519 key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, "", fmt.Errorf("encoding ed25519 private key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, "", fmt.Errorf("encoding ed25519 public key: %w", err)
	}
	return pem.EncodeToMemory(block), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))), nil
}

// AuthorizedKeyLine renders the master's authorized_keys line for pub: the
// key may only run "rrsync -ro ROOT", where ROOT is SyncRoot(sources), and
// gets no pty, forwarding or ~/.ssh/rc. The clone requests every source
// relative to ROOT, so ROOT must be recomputed (and the line reinstalled)
// whenever a source outside it is added.
//
// sources must pass ValidatePaths; when they do not, the line confines the
// key to a directory that cannot exist.
func AuthorizedKeyLine(pub string, sources []string) string {
	root, err := SyncRoot(sources)
	if err != nil {
		root = "/nonexistent/clone-sync-invalid-sources"
	}
	fields := strings.Fields(pub)
	if len(fields) > 2 {
		fields = fields[:2]
	}
	command := strings.ReplaceAll("rrsync -ro "+ShellQuote(root), `"`, `\"`)
	return fmt.Sprintf(`command="%s",no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-user-rc %s %s`,
		command, strings.Join(fields, " "), KeyComment)
}
