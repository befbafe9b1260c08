/// Test-only TLS material for the guarded-fetcher tests (generated with Python
/// `cryptography`; valid 2020-2120; the keys protect nothing but these tests).
enum TestCertificates {
    static let caPEM = """
        -----BEGIN CERTIFICATE-----
        MIIBsTCCAVegAwIBAgIUAxeREAy3gopMcSYSllPDToXIOSUwCgYIKoZIzj0EAwIw
        NDEyMDAGA1UEAwwpZGNyLXNoaW0gU2hpbVVwc3RyZWFtVGVzdHMgQ0EgKHRlc3Qg
        b25seSkwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMDQxMjAwBgNV
        BAMMKWRjci1zaGltIFNoaW1VcHN0cmVhbVRlc3RzIENBICh0ZXN0IG9ubHkpMFkw
        EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmDLKQCem0dc8QvpEc0dK4we7qUz/upjP
        PcZW599W+yhLTnW4qf9OBE6+Ac+TO6IO1zNYV2jRAL0Qnx/wr+1v76NFMEMwEgYD
        VR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFP6/i9dE
        BQjj5c7PtKu8FuyN5DAeMAoGCCqGSM49BAMCA0gAMEUCIQCM5v849PAXrpgXTjX5
        gALKvg8QntzwPx2ME7bJliRKogIgHQy7pgLeaMkETyTRNKs+KpGUyG6wSD44cS1H
        EIQrXvU=
        -----END CERTIFICATE-----
        """
    static let leafPEM = """
        -----BEGIN CERTIFICATE-----
        MIICDTCCAbOgAwIBAgIUc8T0AtHkmFOJTJkrn0kyE1aIuGkwCgYIKoZIzj0EAwIw
        NDEyMDAGA1UEAwwpZGNyLXNoaW0gU2hpbVVwc3RyZWFtVGVzdHMgQ0EgKHRlc3Qg
        b25seSkwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMBQxEjAQBgNV
        BAMMCWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABN9T6u/wSlhZ
        VXpOJGKTj1FmPX5l30q0wvimFzhNMMGKcfVfCtQF3G/JO75alUuJXkGksClm/sZz
        wNFnQ7t8ohajgcAwgb0wdwYDVR0RBHAwboIJbG9jYWxob3N0gglkb2NzLnRlc3SC
        C3Bpbm5lZC50ZXN0ggxwcml2YXRlLnRlc3SCCm1peGVkLnRlc3SCC3B1YmxpYy50
        ZXN0hwR/AAABhwR/AAAChwR/AAADhxAAAAAAAAAAAAAAAAAAAAABMAwGA1UdEwEB
        /wQCMAAwEwYDVR0lBAwwCgYIKwYBBQUHAwEwHwYDVR0jBBgwFoAU/r+L10QFCOPl
        zs+0q7wW7I3kMB4wCgYIKoZIzj0EAwIDSAAwRQIhANJQDMfdgSO7BLw7Nd9DO94V
        MdXRkZrNYuEB8zeHC/JyAiAyZcHmqf9ae9shz4OIMwo0YKpZWqGF56C3v8lJwCZ/
        RA==
        -----END CERTIFICATE-----
        """
    static let leafKeyPEM = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjLj3DFxe4E8x5tiD
        cIS7hyBEBfDpURquetJDxmVd9o6hRANCAATfU+rv8EpYWVV6TiRik49RZj1+Zd9K
        tML4phc4TTDBinH1XwrUBdxvyTu+WpVLiV5BpLApZv7Gc8DRZ0O7fKIW
        -----END PRIVATE KEY-----
        """
    static let untrustedPEM = """
        -----BEGIN CERTIFICATE-----
        MIIBTjCB9aADAgECAhQ2kbSsz8tCnuwz+C2A70uQVb7MsjAKBggqhkjOPQQDAjAU
        MRIwEAYDVQQDDAlsb2NhbGhvc3QwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEw
        MDAwMDBaMBQxEjAQBgNVBAMMCWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49
        AwEHA0IABLp5q4wTDG+MEjHgOKC/sqjo8gJ+OvdIkO0C2nlm9QrL1YGubrUg995X
        xCJDR//zfy3JY48+HGzn/FpiZ9CRqcKjIzAhMB8GA1UdEQQYMBaCCWxvY2FsaG9z
        dIIJZG9jcy50ZXN0MAoGCCqGSM49BAMCA0gAMEUCIC76LrdnSwdW+jjBVzaR1Xai
        bO7Elh9WvRKr7kL39I//AiEAjSFn+FjUCPgCZZn8HC9BF6Vm2zD4XbR71Xuu8l6m
        02U=
        -----END CERTIFICATE-----
        """
    static let untrustedKeyPEM = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHnQeexEsTVNAWz4F
        wEOtTFB2CDh1wDXGMyy18FGqT/ihRANCAAS6eauMEwxvjBIx4Digv7Ko6PICfjr3
        SJDtAtp5ZvUKy9WBrm61IPfeV8QiQ0f/838tyWOPPhxs5/xaYmfQkanC
        -----END PRIVATE KEY-----
        """
}
