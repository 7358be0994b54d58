package billing

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxIDLength is the longest id, in bytes, that the Engine accepts.
const MaxIDLength = 128

// invalidID returns ErrInvalidID naming the field, the id and what is
// wrong with it (validID refused it).
func invalidID(field, id string) error {
	why := "has a control character"
	switch {
	case id == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalidID, field)
	case len(id) > MaxIDLength:
		why = fmt.Sprintf("is %d bytes long, more than %d", len(id), MaxIDLength)
	case !utf8.ValidString(id):
		why = "is not UTF-8"
	case strings.ContainsRune(id, utf8.RuneError):
		why = "has U+FFFD, the mark of text that was not UTF-8"
	}
	return fmt.Errorf("%w: %s %s %s", ErrInvalidID, field, quote(id), why)
}

// plainASCII holds the bytes that are printable ASCII characters, which
// validID accepts without decoding.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	return t
}()

// validID reports whether s is a usable id: 1..MaxIDLength bytes of UTF-8
// without control characters.
func validID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ { // ASCII first, byte by byte
		if c := s[i]; !plainASCII[c] {
			if c < 0x80 {
				return false
			}
			for _, r := range s[i:] {
				if r < 0x20 || r == 0x7f || r == '\uFFFD' || (r >= 0x80 && r < 0xa0) {
					return false
				}
			}
			return true
		}
	}
	return true
}
