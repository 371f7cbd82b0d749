package notfound

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"
)

func TestFromCode(t *testing.T) {
	gone := &smithy.GenericAPIError{Code: "InvalidAMIID.NotFound", Message: "The image id '[ami-1]' does not exist"}
	denied := &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "image not found in your account"}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"listed code", gone, true},
		{"wrapped listed code", fmt.Errorf("describing: %w", gone), true},
		{"other code, whatever its message says", denied, false},
		{"plain error", errors.New("not found"), false},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := FromCode(tc.err, "image", "ami-1", "InvalidAMIID.NotFound")
			if Is(err) != tc.want {
				t.Fatalf("Is(FromCode(%v)) = %v, want %v", tc.err, !tc.want, tc.want)
			}
			if tc.err == nil && err != nil {
				t.Fatalf("FromCode(nil) = %v", err)
			}
			if tc.want && !errors.Is(err, tc.err) {
				t.Fatalf("%v does not wrap AWS's own error", err)
			}
		})
	}
}

func TestNew(t *testing.T) {
	err := fmt.Errorf("reading pool: %w", New("Auto Scaling group", "web"))
	if !Is(err) {
		t.Fatal("a wrapped New is not found")
	}
	if got, want := err.Error(), "reading pool: Auto Scaling group web not found"; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
}
