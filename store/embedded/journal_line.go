package embedded

import (
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// The journal's line format: encoding and parsing one change.

// parseJournalLine reads one line written by appendJournalLine; an error
// says which field is wrong (the CRC covers all but itself).
func parseJournalLine(line string) (key string, e jentry, del bool, err error) {
	f := strings.SplitN(line, " ", 5)
	if len(f) != 5 {
		return "", e, false, errors.New("wrong number of fields")
	}
	sum, err := strconv.ParseUint(f[0], 16, 32)
	if err != nil || uint32(sum) != crc32.ChecksumIEEE([]byte(line[len(f[0])+1:])) {
		return "", e, false, errors.New("checksum mismatch")
	}
	if e.exp, err = strconv.ParseInt(f[2], 10, 64); err != nil {
		return "", e, false, fmt.Errorf("expiry: %w", err)
	}
	k, err := base64.RawStdEncoding.DecodeString(f[3])
	if err != nil {
		return "", e, false, fmt.Errorf("key: %w", err)
	}
	if e.val, err = base64.RawStdEncoding.DecodeString(f[4]); err != nil {
		return "", e, false, fmt.Errorf("value: %w", err)
	}
	switch f[1] {
	case "P":
	case "D":
		del = true
	default:
		return "", e, false, fmt.Errorf("unknown operation %q", f[1])
	}
	return string(k), e, del, nil
}

func journalLine(op byte, key string, e jentry) []byte {
	return appendJournalLine(make([]byte, 0, 24+(len(key)+len(e.val))*4/3), op, key, e)
}

// appendJournalLine appends the line for one operation to dst:
// "crc32 op expiry base64(key) base64(value)\n", the CRC over what follows it.
func appendJournalLine(dst []byte, op byte, key string, e jentry) []byte {
	start := len(dst)
	dst = append(dst, "00000000 "...)
	body := len(dst)
	dst = append(dst, op, ' ')
	dst = strconv.AppendInt(dst, e.exp, 10)
	dst = append(dst, ' ')
	dst = base64.RawStdEncoding.AppendEncode(dst, []byte(key))
	dst = append(dst, ' ')
	dst = base64.RawStdEncoding.AppendEncode(dst, e.val)
	const hexDigits = "0123456789abcdef"
	sum := crc32.ChecksumIEEE(dst[body:])
	for i := 7; i >= 0; i-- {
		dst[start+i] = hexDigits[sum&0xf]
		sum >>= 4
	}
	return append(dst, '\n')
}
