module github.com/fhkey/fhkey

go 1.26
