package userdata

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// Limit is the most user data EC2 accepts, in bytes of raw user data
// before base64: "User data is limited to 16 KB, in raw form, before it is
// base64-encoded" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html).
const Limit = 16384

// maxDecoded bounds what Decode inflates, so a tampered launch template
// cannot make the provider allocate without limit. Deflate expands at most
// about 1,032 times, and no user data Render makes comes near this.
const maxDecoded = 4 << 20

// Render returns the user data to store in a launch template. With pool
// parts it is the MIME document Assemble makes, gzip-compressed: cloud-init
// reads gzip-compressed user data as it is
// (https://cloudinit.readthedocs.io/en/latest/explanation/format.html),
// and the pool's parts then leave room for the user's. The gzip stream has
// no file name and no modification time and a fixed compression level, so
// identical input gives identical bytes. Without pool parts the user's data
// is returned unchanged, so user data for other boot agents still works.
func Render(parts []Part, userPart string) ([]byte, error) {
	doc, err := Assemble(parts, userPart)
	if err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		return []byte(doc), nil
	}
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, doc); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Decode returns user data as Render made it in readable form: the MIME
// document, decompressed, or the user's own data as it was.
func Decode(data []byte) (string, error) {
	if !IsGzip(data) {
		return string(data), nil
	}
	r, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("decompressing user data: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(r, maxDecoded+1))
	if err != nil {
		return "", fmt.Errorf("decompressing user data: %w", err)
	}
	if len(out) > maxDecoded {
		return "", fmt.Errorf("decompressing user data: more than %d bytes", maxDecoded)
	}
	return string(out), nil
}

// IsGzip tells whether data starts like a gzip stream (RFC 1952).
func IsGzip(data []byte) bool {
	return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b
}

// Sizes is how much of the Limit user data takes once rendered.
type Sizes struct {
	// Total is the size of the user data Render makes, in bytes.
	Total int
	// Pool is the size of the user data Render makes of the pool's parts
	// alone: the pool's own share of the Limit.
	Pool int
}

// Fits tells whether the user data is within the Limit.
func (s Sizes) Fits() bool { return s.Total <= Limit }

// Err explains user data over the Limit, nil when it fits: its size, the
// limit, the pool's own share and what that leaves for the user's part.
// estimated says the pool's share is an estimate (a plan that cannot render
// the sync agent yet).
func (s Sizes) Err(estimated bool) error {
	if s.Fits() {
		return nil
	}
	about, form := "", ""
	if estimated {
		about = "about "
	}
	if s.Pool > 0 {
		form = " gzip-compressed"
	}
	msg := fmt.Sprintf("With this user_data the launch template's user data would be %s%d bytes%s, over EC2's limit of %d bytes "+
		"(raw, before base64: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html). ",
		about, s.Total, form, Limit)
	if s.Pool > 0 {
		msg += fmt.Sprintf("The pool's own share (master settings and sync agent) is %s%d bytes, which leaves %s%d bytes for user_data once compressed. ",
			about, s.Pool, about, max(Limit-s.Pool, 0))
	} else {
		msg += "The pool's own share is 0 bytes: it adds no part of its own and sends user_data as it is. "
	}
	msg += "Shorten user_data, or have it download a larger script at boot."
	return errors.New(msg)
}

// Measure renders the user data of parts and userPart, with and without
// userPart, and returns both sizes.
func Measure(parts []Part, userPart string) (Sizes, error) {
	all, err := Render(parts, userPart)
	if err != nil {
		return Sizes{}, err
	}
	s := Sizes{Total: len(all)}
	if len(parts) > 0 {
		own, err := Render(parts, "")
		if err != nil {
			return Sizes{}, err
		}
		s.Pool = len(own)
	}
	return s, nil
}
