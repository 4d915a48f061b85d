module policybot

go 1.26.0

require (
	github.com/mozillazg/go-pinyin v0.21.0
	golang.org/x/text v0.43.0
)
