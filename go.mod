module policybot

go 1.26.0

require (
	github.com/mozillazg/go-pinyin v0.21.0
	go.etcd.io/bbolt v1.4.3
	golang.org/x/text v0.43.0
)

require (
	github.com/stretchr/testify v1.12.1 // indirect
	golang.org/x/sys v0.48.0 // indirect
)
