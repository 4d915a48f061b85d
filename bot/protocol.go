package bot

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
)

// inbound is a message or event as WeChat posts it. MsgId is kept as a
// string: some exceed 2^53, and it is only ever used as a key.
type inbound struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string   `xml:"ToUserName"`
	FromUserName string   `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      string   `xml:"MsgType"`
	Content      string   `xml:"Content"`
	Recognition  string   `xml:"Recognition"`
	MsgID        string   `xml:"MsgId"`
	TemplateID   string   `xml:"MsgID"` // TEMPLATESENDJOBFINISH
	Event        string   `xml:"Event"`
	EventKey     string   `xml:"EventKey"`
	Status       string   `xml:"Status"`
	TotalCount   string   `xml:"TotalCount"` // MASSSENDJOBFINISH
	SentCount    string   `xml:"SentCount"`
	ErrorCount   string   `xml:"ErrorCount"`
	Encrypt      string   `xml:"Encrypt"`
}

// errMalformed marks a body that is not a WeChat message.
var errMalformed = errors.New("malformed message")

// parseInbound decodes a message body. encoding/xml expands no external
// entities, so a hostile body cannot reach files or the network.
func parseInbound(body []byte) (*inbound, error) {
	if in, ok := fastParse(body); ok {
		return in, nil
	}
	return slowParse(body)
}

// slowParse is parseInbound through encoding/xml, for every body
// fastParse does not take.
func slowParse(body []byte) (*inbound, error) {
	var in inbound
	if err := xml.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	in.FromUserName = strings.TrimSpace(in.FromUserName)
	in.MsgType = strings.TrimSpace(in.MsgType)
	return &in, nil
}

// validMessage checks the fields every message has.
func (in *inbound) validMessage() error {
	if in.FromUserName == "" || in.MsgType == "" {
		return fmt.Errorf("%w: FromUserName or MsgType missing", errMalformed)
	}
	return nil
}

// dedupKey identifies a message across WeChat's retries: MsgId for
// messages, sender + CreateTime + event + key for events.
func (in *inbound) dedupKey() string {
	if in.MsgType == "event" {
		return fmt.Sprintf("evt:%s:%d:%s:%s", in.FromUserName, in.CreateTime, in.Event, in.EventKey)
	}
	if in.MsgID != "" {
		return "msg:" + in.MsgID
	}
	return fmt.Sprintf("msg:%s:%d", in.FromUserName, in.CreateTime)
}

// checkSignature compares in constant time.
func checkSignature(want string, parts ...string) bool {
	got := util.Signature(parts...)
	return subtle.ConstantTimeCompare([]byte(got), []byte(strings.ToLower(want))) == 1
}

// renderText is the passive text reply XML.
func renderText(to, from, text string, now time.Time) ([]byte, error) {
	return fastRenderText(to, from, text, now), nil
}

// sdkRenderText is the SDK's rendering that fastRenderText reproduces.
func sdkRenderText(to, from, text string, now time.Time) ([]byte, error) {
	m := message.NewText(text)
	m.SetToUserName(message.CDATA(to))
	m.SetFromUserName(message.CDATA(from))
	m.SetCreateTime(now.Unix())
	m.SetMsgType(message.MsgTypeText)
	return xml.Marshal(m)
}

// renderTransfer is the passive reply that hands the user to customer service.
func renderTransfer(to, from string, now time.Time) ([]byte, error) {
	m := message.NewTransferCustomer("")
	m.SetToUserName(message.CDATA(to))
	m.SetFromUserName(message.CDATA(from))
	m.SetCreateTime(now.Unix())
	m.SetMsgType(message.MsgTypeTransfer)
	return xml.Marshal(m)
}

// encryptReply wraps a reply for safe mode: AES (through the SDK) and a
// msg_signature over token, timestamp, nonce and the ciphertext.
func encryptReply(plain []byte, token, appID, aesKey string, now time.Time) ([]byte, error) {
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		return nil, err
	}
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	for i := range random {
		random[i] = letters[int(random[i])%len(letters)]
	}
	enc, err := util.EncryptMsg(random, plain, appID, aesKey)
	if err != nil {
		return nil, err
	}
	return renderEnvelope(string(enc), token, now.Unix(), string(random[:10])), nil
}

// renderEnvelope is the safe-mode reply around ciphertext enc: the same
// bytes as xml.Marshal of the SDK's message.ResponseEncryptedXMLMsg (a
// test holds it to that). Base64, hex and ASCII letters need no escaping.
func renderEnvelope(enc, token string, ts int64, nonce string) []byte {
	tss := strconv.FormatInt(ts, 10)
	sig := util.Signature(token, tss, nonce, enc)
	b := make([]byte, 0, 120+len(enc))
	b = append(b, "<xml><Encrypt>"...)
	b = append(b, enc...)
	b = append(b, "</Encrypt><MsgSignature>"...)
	b = append(b, sig...)
	b = append(b, "</MsgSignature><TimeStamp>"...)
	b = append(b, tss...)
	b = append(b, "</TimeStamp><Nonce>"...)
	b = append(b, nonce...)
	return append(b, "</Nonce></xml>"...)
}
