package bot

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/silenceper/wechat/v2/util"

	"policybot/handlers"
)

const samples = "testdata/wechat-samples"

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(samples, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func TestSignatureVectors(t *testing.T) {
	var f struct {
		Vectors []struct {
			ID, Token, Timestamp, Nonce, Signature string
			ExpectedValid                          bool `json:"expected_valid"`
		}
	}
	readJSON(t, "signature_vectors.json", &f)
	if len(f.Vectors) < 3 {
		t.Fatalf("only %d vectors", len(f.Vectors))
	}
	for _, v := range f.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			if got := checkSignature(v.Signature, v.Token, v.Timestamp, v.Nonce); got != v.ExpectedValid {
				t.Errorf("checkSignature = %v, want %v", got, v.ExpectedValid)
			}
		})
	}
}

type safeVector struct {
	ID             string            `json:"id"`
	Kind           string            `json:"kind"`
	Token          string            `json:"token"`
	EncodingAESKey string            `json:"encoding_aes_key"`
	AppID          string            `json:"app_id"`
	Timestamp      string            `json:"timestamp"`
	Nonce          string            `json:"nonce"`
	MsgSignature   string            `json:"msg_signature"`
	RequestBody    string            `json:"request_body"`
	Encrypt        string            `json:"encrypt"`
	Random         string            `json:"random"`
	Plaintext      string            `json:"plaintext"`
	ExpectedEnc    string            `json:"expected_encrypt"`
	ExpectedPlain  string            `json:"expected_plaintext"`
	ExpectedFields map[string]string `json:"expected_fields"`
	ExpectedMsgSig string            `json:"expected_msg_signature"`
	DerivedMsgSig  string            `json:"derived_msg_signature_by_us"`
	Negative       []struct {
		What     string `json:"what"`
		Expected string `json:"expected"`
	} `json:"negative_variants"`
}

func TestSafeModeVectors(t *testing.T) {
	var f struct{ Vectors []safeVector }
	readJSON(t, "safe_mode_vectors.json", &f)
	kinds := map[string]int{}
	for _, v := range f.Vectors {
		kinds[v.Kind]++
		t.Run(v.ID, func(t *testing.T) {
			switch v.Kind {
			case "decrypt_post", "verify_url_encrypted_echostr":
				enc := v.Encrypt
				if enc == "" {
					in, err := parseInbound([]byte(v.RequestBody))
					if err != nil {
						t.Fatal(err)
					}
					enc = in.Encrypt
				}
				if v.MsgSignature != "" && !checkSignature(v.MsgSignature, v.Token, v.Timestamp, v.Nonce, enc) {
					t.Fatal("msg_signature does not verify")
				}
				_, plain, err := util.DecryptMsg(v.AppID, enc, v.EncodingAESKey)
				if err != nil {
					t.Fatalf("decrypt: %v", err)
				}
				if v.ExpectedPlain != "" && string(plain) != v.ExpectedPlain {
					t.Errorf("plaintext = %q, want %q", plain, v.ExpectedPlain)
				}
				if len(v.ExpectedFields) > 0 {
					in, err := parseInbound(plain)
					if err != nil {
						t.Fatal(err)
					}
					if in.FromUserName != v.ExpectedFields["FromUserName"] || in.Content != v.ExpectedFields["Content"] {
						t.Errorf("fields = %+v, want %v", in, v.ExpectedFields)
					}
				}
				// the wrong AppID is refused
				if _, _, err := util.DecryptMsg(v.AppID+"x", enc, v.EncodingAESKey); err == nil {
					t.Error("decrypt accepted another AppID")
				}
				for _, n := range v.Negative {
					if strings.HasPrefix(n.What, "nonce=") {
						nonce := strings.Trim(strings.TrimPrefix(n.What, "nonce="), `"`)
						if checkSignature(v.MsgSignature, v.Token, v.Timestamp, nonce, enc) {
							t.Errorf("negative variant %s verified", n.What)
						}
					}
				}
			case "encrypt_deterministic":
				enc, err := util.EncryptMsg([]byte(v.Random), []byte(v.Plaintext), v.AppID, v.EncodingAESKey)
				if err != nil {
					t.Fatal(err)
				}
				if string(enc) != v.ExpectedEnc {
					t.Fatalf("encrypt byte for byte:\n got %s\nwant %s", enc, v.ExpectedEnc)
				}
				if want := firstNonEmpty(v.ExpectedMsgSig, v.DerivedMsgSig); want != "" {
					if got := util.Signature(v.Token, v.Timestamp, v.Nonce, string(enc)); got != want {
						t.Errorf("msg_signature = %s, want %s", got, want)
					}
				}
				_, plain, err := util.DecryptMsg(v.AppID, string(enc), v.EncodingAESKey)
				if err != nil || string(plain) != v.Plaintext {
					t.Fatalf("encrypt-then-decrypt = %q, %v", plain, err)
				}
			default:
				t.Skipf("kind %s not exercised", v.Kind)
			}
		})
	}
	if kinds["decrypt_post"] == 0 || kinds["encrypt_deterministic"] == 0 {
		t.Fatalf("vector kinds seen: %v", kinds)
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestEveryInboundSampleParses(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(samples, "inbound", "*.xml"))
	if len(files) < 20 {
		t.Fatalf("only %d inbound samples", len(files))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data, _ := os.ReadFile(f)
			in, err := parseInbound(data)
			if err == nil {
				err = in.validMessage()
			}
			if strings.Contains(name, "MALFORMED") {
				if err == nil {
					t.Fatalf("malformed sample accepted: %+v", in)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			m := toMessage(in, testNow)
			want := map[string]handlers.MessageKind{"text": handlers.KindText, "voice_recognition": handlers.KindText,
				"voice": handlers.KindMedia, "image": handlers.KindMedia, "video": handlers.KindMedia,
				"link": handlers.KindMedia, "location": handlers.KindMedia}
			base := strings.SplitN(name, ".", 2)[0]
			if strings.HasPrefix(base, "event_") {
				if m.Kind != handlers.KindEvent || m.Event == "" {
					t.Errorf("event sample mapped to %+v", m)
				}
			} else if w, ok := want[base]; ok && m.Kind != w {
				t.Errorf("kind = %s, want %s", m.Kind, w)
			}
			if in.dedupKey() == "" {
				t.Error("no dedup key")
			}
		})
	}
}

func TestVoiceRecognitionIsText(t *testing.T) {
	data, _ := os.ReadFile(filepath.Join(samples, "inbound", "voice_recognition.official.xml"))
	in, err := parseInbound(data)
	if err != nil {
		t.Fatal(err)
	}
	if m := toMessage(in, testNow); m.Kind != handlers.KindText || m.Text != in.Recognition || m.Text == "" {
		t.Errorf("voice with Recognition = %+v", m)
	}
}

func TestBigMsgIDKeptExactly(t *testing.T) {
	in, err := parseInbound([]byte(`<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><MsgId>9007199254740993123</MsgId></xml>`))
	if err != nil {
		t.Fatal(err)
	}
	if in.dedupKey() != "msg:9007199254740993123" {
		t.Errorf("dedup key = %s", in.dedupKey())
	}
}
