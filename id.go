package billing

import "fmt"

// MaxIDLength is the longest id, in bytes, that the Engine accepts.
const MaxIDLength = 128

// invalidID returns ErrInvalidID naming the field and the id.
func invalidID(field, id string) error {
	return fmt.Errorf("%w: %s %s", ErrInvalidID, field, quote(id))
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
