package bot

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
)

// The fast path must take the bodies WeChat actually sends, or it buys
// nothing: every inbound sample that encoding/xml accepts and that has no
// nested elements goes through it, with the same result.
func TestFastParseTakesTheSamples(t *testing.T) {
	files, _ := filepath.Glob("testdata/wechat-samples/inbound/*.xml")
	if len(files) == 0 {
		t.Fatal("no inbound samples")
	}
	fast := 0
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := fastParse(body)
		want, err := slowParse(body)
		if ok {
			fast++
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: fast %+v, encoding/xml %+v (%v)", f, got, want, err)
			}
		}
	}
	if fast*2 < len(files) {
		t.Errorf("fast path took only %d of %d samples", fast, len(files))
	}
	for _, body := range []string{
		textXML("u", "问题 ]] > & 答", "1"),
		"<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime> 12 </CreateTime><MsgType>text</MsgType><Content><![CDATA[a\nb]]></Content><MsgId>9</MsgId></xml>trailing",
	} {
		got, ok := fastParse([]byte(body))
		want, err := slowParse([]byte(body))
		if !ok || err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: fast %+v ok=%v, encoding/xml %+v (%v)", body, got, ok, want, err)
		}
	}
	for _, body := range []string{
		"<xml><Content>a&amp;b</Content></xml>",          // entity
		"<xml><Content>a\r\nb</Content></xml>",           // CR folding
		"<xml><A><B>x</B></A></xml>",                     // nested
		"<?xml version=\"1.0\"?><xml></xml>",             // declaration
		"<xml><Content><![CDATA[x]]></Content>",          // unclosed root
		"<xml><Content>x</Contents></xml>",               // mismatched
		"<xml><CreateTime>x</CreateTime></xml>",          // bad number
		"<xml><Content><![CDATA[\xff]]></Content></xml>", // bad UTF-8
	} {
		if _, ok := fastParse([]byte(body)); ok {
			t.Errorf("fast path took %q; it must leave it to encoding/xml", body)
		}
	}
}

// FuzzFastParse: whatever fastParse accepts, encoding/xml accepts with the
// identical result.
func FuzzFastParse(f *testing.F) {
	f.Add([]byte(textXML("u", "问题", "1")))
	f.Add([]byte("<xml><Event>subscribe</Event><EventKey>qrscene_1</EventKey><CreateTime>5</CreateTime></xml>"))
	f.Add([]byte("<xml><Content><![CDATA[a]]]]><![CDATA[>b]]></Content></xml>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := fastParse(body)
		if !ok {
			return
		}
		want, err := slowParse(body)
		if err != nil {
			t.Fatalf("fast path accepted what encoding/xml refuses (%v): %q", err, body)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\nfast %+v\nxml  %+v", body, got, want)
		}
	})
}

// FuzzRenderText: the hand-written reply is byte for byte the SDK's.
func FuzzRenderText(f *testing.F) {
	f.Add("openid", "gh_1", "答：]]>每月不少于20天")
	f.Fuzz(func(t *testing.T, to, from, text string) {
		now := time.Unix(1700000000, 0)
		want, err := sdkRenderText(to, from, text, now)
		if err != nil {
			return
		}
		if got := fastRenderText(to, from, text, now); !bytes.Equal(got, want) {
			t.Fatalf("\nfast %s\nsdk  %s", got, want)
		}
	})
}

func TestRenderEnvelopeMatchesSDK(t *testing.T) {
	enc := "q8Vn3+Yk/ab0=="
	want, err := xml.Marshal(message.ResponseEncryptedXMLMsg{
		EncryptedMsg: enc,
		MsgSignature: util.Signature(tToken, "1700000000", "abcdefghij", enc),
		Timestamp:    1700000000,
		Nonce:        "abcdefghij",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := renderEnvelope(enc, tToken, 1700000000, "abcdefghij"); !bytes.Equal(got, want) {
		t.Fatalf("\nfast %s\nsdk  %s", got, want)
	}
}
