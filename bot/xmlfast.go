package bot

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// fastParse decodes the common shape of a WeChat body without
// encoding/xml, which costs about a quarter of a request's CPU: an <xml>
// root holding flat elements whose content is either one CDATA section or
// plain text. It reports ok=false for anything else (a declaration,
// attributes, comments, nested elements, entities, carriage returns,
// control characters, invalid UTF-8, a bad CreateTime, an unclosed tag)
// and the caller falls back to encoding/xml, so the two can never
// disagree: a differential fuzz test holds fastParse to encoding/xml's
// result on every input it accepts. Like xml.Unmarshal it ignores what
// follows the root element and lets a repeated element's last value win.
func fastParse(body []byte) (*inbound, bool) {
	p := skipSpace(body, 0)
	if !bytes.HasPrefix(body[p:], []byte("<xml>")) {
		return nil, false
	}
	p += len("<xml>")
	in := inbound{XMLName: xml.Name{Local: "xml"}}
	for {
		p = skipSpace(body, p)
		if p >= len(body) || body[p] != '<' {
			return nil, false // text between elements, or unclosed root
		}
		p++
		if p < len(body) && body[p] == '/' {
			if !bytes.HasPrefix(body[p+1:], []byte("xml>")) {
				return nil, false
			}
			return &in, true
		}
		name, q, ok := elemName(body, p)
		if !ok || q >= len(body) || body[q] != '>' {
			return nil, false
		}
		p = q + 1
		var value []byte
		if bytes.HasPrefix(body[p:], []byte("<![CDATA[")) {
			p += len("<![CDATA[")
			end := bytes.Index(body[p:], []byte("]]>"))
			if end < 0 {
				return nil, false
			}
			value = body[p : p+end]
			p += end + len("]]>")
		} else {
			end := bytes.IndexByte(body[p:], '<')
			if end < 0 {
				return nil, false
			}
			value = body[p : p+end]
			if bytes.ContainsAny(value, "&>") {
				return nil, false
			}
			p += end
		}
		if !plainChars(value) {
			return nil, false
		}
		// the closing tag must follow at once and match
		if !bytes.HasPrefix(body[p:], []byte("</")) {
			return nil, false
		}
		p += 2
		if !bytes.HasPrefix(body[p:], name) {
			return nil, false
		}
		p += len(name)
		p = skipSpace(body, p)
		if p >= len(body) || body[p] != '>' {
			return nil, false
		}
		p++
		if !in.set(string(name), value) {
			return nil, false
		}
	}
}

// set stores one element's value in the field encoding/xml would use.
func (in *inbound) set(name string, v []byte) bool {
	switch name {
	case "ToUserName":
		in.ToUserName = string(v)
	case "FromUserName":
		in.FromUserName = strings.TrimSpace(string(v))
	case "CreateTime":
		n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
		if err != nil {
			return false
		}
		in.CreateTime = n
	case "MsgType":
		in.MsgType = strings.TrimSpace(string(v))
	case "Content":
		in.Content = string(v)
	case "Recognition":
		in.Recognition = string(v)
	case "MsgId":
		in.MsgID = string(v)
	case "MsgID":
		in.TemplateID = string(v)
	case "Event":
		in.Event = string(v)
	case "EventKey":
		in.EventKey = string(v)
	case "Status":
		in.Status = string(v)
	case "TotalCount":
		in.TotalCount = string(v)
	case "SentCount":
		in.SentCount = string(v)
	case "ErrorCount":
		in.ErrorCount = string(v)
	case "Encrypt":
		in.Encrypt = string(v)
	case "xml":
		return false // a nested <xml> would be the struct's XMLName
	}
	return true
}

// elemName reads an ASCII element name starting at p.
func elemName(b []byte, p int) ([]byte, int, bool) {
	start := p
	for p < len(b) {
		c := b[p]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || p > start && c >= '0' && c <= '9' {
			p++
			continue
		}
		break
	}
	return b[start:p], p, p > start
}

func skipSpace(b []byte, p int) int {
	for p < len(b) && (b[p] == ' ' || b[p] == '\n' || b[p] == '\t') {
		p++
	}
	return p
}

// plainChars reports whether v is valid UTF-8 made only of characters that
// encoding/xml passes through unchanged: no carriage return (it would be
// folded to a newline), no other control character, no U+FFFE or U+FFFF.
func plainChars(v []byte) bool {
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' && c != '\t' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(v[i:])
		if r == utf8.RuneError || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += n
	}
	return true
}

// appendCDATA writes s as encoding/xml's ",cdata" does, splitting "]]>".
// An empty string writes nothing, as there.
func appendCDATA(b []byte, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, "<![CDATA["...)
	for {
		i := strings.Index(s, "]]>")
		if i < 0 {
			break
		}
		b = append(b, s[:i+2]...)
		b = append(b, "]]><![CDATA["...)
		s = s[i+2:]
	}
	b = append(b, s...)
	return append(b, "]]>"...)
}

// fastRenderText is renderText without reflection: the same bytes as
// xml.Marshal of the SDK's message.Text (a test holds it to that).
func fastRenderText(to, from, text string, now time.Time) []byte {
	b := make([]byte, 0, 160+len(to)+len(from)+len(text))
	b = append(b, "<xml><ToUserName>"...)
	b = appendCDATA(b, to)
	b = append(b, "</ToUserName><FromUserName>"...)
	b = appendCDATA(b, from)
	b = append(b, "</FromUserName><CreateTime>"...)
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, "</CreateTime><MsgType>text</MsgType><Content>"...)
	b = appendCDATA(b, text)
	return append(b, "</Content></xml>"...)
}
