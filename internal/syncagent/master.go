package syncagent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/crypto/ssh"
)

// PathList is a path document read back.
type PathList struct {
	Paths []Path
	Root  string
	// KeyFingerprint is empty in a version 1 document.
	KeyFingerprint string
}

// ParsePathsJSON reads a document PathsJSON rendered (or a version 1
// document, which has no key fingerprint), refusing anything PathsJSON
// would not have produced.
func ParsePathsJSON(doc string) (PathList, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.DisallowUnknownFields()
	var d pathsDocument
	if err := dec.Decode(&d); err != nil {
		return PathList{}, fmt.Errorf("decoding the path list: %w", err)
	}
	switch d.Version {
	case 1:
		if d.KeyFingerprint != "" {
			return PathList{}, errors.New("path list version 1 cannot carry a key fingerprint")
		}
	case PathsVersion:
		if err := ValidateKeyFingerprint(d.KeyFingerprint); err != nil {
			return PathList{}, fmt.Errorf("path list: %w", err)
		}
	default:
		return PathList{}, fmt.Errorf("path list version %d is not supported", d.Version)
	}
	var paths []Path
	for _, p := range d.Paths {
		paths = append(paths, Path(p))
	}
	want, err := pathsRoot(paths)
	if err != nil {
		return PathList{}, err
	}
	if d.Root != want {
		return PathList{}, fmt.Errorf("path list root %q does not match its sources (want %q)", d.Root, want)
	}
	return PathList{Paths: paths, Root: d.Root, KeyFingerprint: d.KeyFingerprint}, nil
}

// KeyFingerprint returns the SHA256 fingerprint ("SHA256:…", as ssh-keygen
// -l prints it) of a public key in authorized_keys form.
func KeyFingerprint(pub string) (string, error) {
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pub))
	if err != nil {
		return "", fmt.Errorf("parsing public key: %w", err)
	}
	return ssh.FingerprintSHA256(key), nil
}

// PrivateKeyFingerprint returns the SHA256 fingerprint of the public half
// of an unencrypted private key, as the agent computes it on a clone
// ("ssh-keygen -y -f KEY | ssh-keygen -l -f -").
func PrivateKeyFingerprint(privateKeyPEM []byte) (string, error) {
	signer, err := ssh.ParsePrivateKey(privateKeyPEM)
	if err != nil {
		return "", errors.New("parsing private key: not an unencrypted private key")
	}
	return ssh.FingerprintSHA256(signer.PublicKey()), nil
}

var keyBlobPattern = regexp.MustCompile(`^[A-Za-z0-9+/]+={0,2}$`)

// KeyBlob returns the base64 field of a public key in authorized_keys form,
// with or without options: what identifies the key in an authorized_keys
// file whatever its options and comment.
func KeyBlob(pub string) (string, error) {
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pub))
	if err != nil {
		return "", fmt.Errorf("not a public key in authorized_keys form: %w", err)
	}
	fields := strings.Fields(string(ssh.MarshalAuthorizedKey(key)))
	if len(fields) < 2 || !keyBlobPattern.MatchString(fields[1]) {
		return "", errors.New("not a public key in authorized_keys form")
	}
	return fields[1], nil
}

// RenderInstallKeyScript renders the bash script the master runs (as root,
// through SSM Run Command) to install an authorized_keys line for user:
// it creates the account when missing (unlocked, shell /bin/sh, which the
// forced rrsync command needs), removes every line holding one of the keys
// in revokeBlobs (see KeyBlob) or line's own key, then appends line. An
// empty line only revokes; a missing account then is not an error.
// Every value reaches the script through ShellQuote.
func RenderInstallKeyScript(user, line string, revokeBlobs []string) (string, error) {
	if err := ValidateSSHUser(user); err != nil {
		return "", err
	}
	blobs := append([]string(nil), revokeBlobs...)
	if line != "" {
		if strings.ContainsAny(line, "\x00\r\n") {
			return "", errors.New("authorized_keys line must be a single line")
		}
		_, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil || len(bytes.TrimSpace(rest)) != 0 {
			return "", fmt.Errorf("authorized_keys line does not parse: %v", err)
		}
		own, err := KeyBlob(line)
		if err != nil {
			return "", err
		}
		blobs = append(blobs, own)
	}
	if len(blobs) == 0 {
		return "", errors.New("nothing to install or revoke")
	}
	var patterns []string
	for _, b := range blobs {
		if !keyBlobPattern.MatchString(b) {
			return "", fmt.Errorf("key %q is not a base64 public key blob", b)
		}
		patterns = append(patterns, "-e "+ShellQuote(" "+b))
	}

	var s strings.Builder
	s.WriteString("#!/bin/bash\n")
	s.WriteString("# Installs or revokes the clone-sync key; rendered by terraform-provider-clone.\n")
	s.WriteString("set -eu -o pipefail\numask 077\n")
	fmt.Fprintf(&s, "user=%s\nline=%s\n", ShellQuote(user), ShellQuote(line))
	s.WriteString(`if ! getent passwd "$user" >/dev/null; then
	if [ -z "$line" ]; then
		exit 0
	fi
	useradd --system --create-home --shell /bin/sh "$user"
	usermod -p '*' "$user"
fi
if [ -n "$line" ] && ! command -v rrsync >/dev/null 2>&1; then
	echo "clone-sync: rrsync is not on PATH: install rsync 3.2.4 or later (or put rrsync on PATH) for the forced command" >&2
	exit 1
fi
home=$(getent passwd "$user" | cut -d: -f6)
group=$(id -gn "$user")
if [ -z "$home" ] || [ "$home" = / ]; then
	echo "clone-sync: user $user has no usable home directory" >&2
	exit 1
fi
mkdir -p -- "$home/.ssh"
chmod 700 -- "$home/.ssh"
chown -- "$user:$group" "$home/.ssh"
keys=$home/.ssh/authorized_keys
touch -- "$keys"
tmp=$(mktemp -- "$keys.clone-sync.XXXXXX")
`)
	fmt.Fprintf(&s, "grep -vF %s -- \"$keys\" >\"$tmp\" || [ $? -eq 1 ]\n", strings.Join(patterns, " "))
	s.WriteString(`if [ -n "$line" ]; then
	printf '%s\n' "$line" >>"$tmp"
fi
chmod 600 -- "$tmp"
chown -- "$user:$group" "$tmp"
mv -f -- "$tmp" "$keys"
`)
	return s.String(), nil
}
