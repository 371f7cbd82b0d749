// Package notfound holds the project's one "the AWS object does not exist"
// error. Finders return it; Read drops the resource from state on it, with a
// warning; Delete treats it as done.
//
// It is classified by AWS error code (FromCode), never by message text, in
// the manner of terraform-provider-aws's retry.NotFoundError.
package notfound

import (
	"errors"
	"fmt"

	"github.com/hashicorp/aws-sdk-go-base/v2/tfawserr"
)

// Error says the object of Kind (e.g. "launch template") and ID does not
// exist. Cause is the AWS error that said so, nil when an empty answer did.
type Error struct {
	Kind  string
	ID    string
	Cause error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s not found", e.Kind, e.ID)
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Cause }

// New returns the not-found error of an object an empty answer showed gone.
func New(kind, id string) error {
	return &Error{Kind: kind, ID: id}
}

// Is reports whether err, or an error it wraps, is a not-found error.
func Is(err error) bool {
	var nf *Error
	return errors.As(err, &nf)
}

// FromCode returns a not-found error wrapping err when err's AWS error code
// is one of codes, and err unchanged otherwise (nil stays nil).
func FromCode(err error, kind, id string, codes ...string) error {
	if err != nil && tfawserr.ErrCodeEquals(err, codes...) {
		return &Error{Kind: kind, ID: id, Cause: err}
	}
	return err
}
