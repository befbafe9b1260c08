public import Foundation

/// Two RSA-2048 keys made for these tests only (never used anywhere else),
/// with their public halves as JWK members.
public enum TestRSAKeys {
    public static let onePrivatePEM = """
        -----BEGIN PRIVATE KEY-----
        MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCaanRssUgqayuK
        Bf3vQUw3EZGYtJGkkgj5MXWHPHxiFxHxigY/jTds7ls+MyZXc7Y8vTj43oeCEjbG
        VwEJ8uxwCdJzdluril5EZXlS8/5TN5IAx7QzS7yZ9sYu0/wFXhNOqKNNuS5f2i5I
        DXrPUAT0ffSUaw/2y1CseoRHdXgl9qDrhz2+5qhUWlDQxP3jluP49xH/jE63T1NM
        PBTWTOWFSu/tgJtEx25nn1BsMymDWIIoXntH1l3SiS3BW31wTaRlR30aHtYAzmxP
        RJ1KvwByOodSL31or9ny+Bb1VXKheSY9I/cXnta4rBXahyQ8vLLK5d2KwSadCJ5m
        +S7bORm9AgMBAAECggEAPM40wGRjJYkEIRrQ7vkImRrK+ZYJUAPNkss+G53e4QVy
        pGmUokvqinOl7G1Z6NAA8BQXLjD6rWacuSejmhZVspy7iYoO+RLIoihPSTIZcQ2N
        6c66EAT/5KT/T4tcT4THF49ilwWX1FjnJqpgNOiuutQqjpNGOwm+39xy4GzKfi/t
        8Oz3ms+O7Hce4qdI514fEF0AghSXooZSE1TtlcnKZrzKBAa4yBu/8v6ZdQRTPv7Q
        9lZHLJx3gA8gEH3d6lziK2XjksGmsrTSjd/8WKsRMpQnQuB0VhtDVdQDjEz1OjYE
        x5y/vyseuZnSiffTDaLLk96yfMuMUQ1wXAM0mzWiBQKBgQDYexEOclpjCLhy6JgL
        ZqwaAiWbIHONcPUywcFaDN4bUu4kjcEdAVPTKeP4dJGPV+g4PJzK4ZcJR6dx7tYg
        A3huhkGPmKu5rmjmHQrujPKSmG3HXBrFUYX1LwYnT5cRmPI4L9bbHCP1dRMAiCbs
        ++OnbL1pzvNl4YrfZWeckOl3kwKBgQC2mt6ih4yZxapD8bJnDIaTLqfziFtoq4tV
        Tsg2xGZTjQHzkiIblUZP5JjZGNW/eY5s7SSaqATmzfkX84PNse0aF82uzmKjp2yB
        UZOQR/okDRJbzQQNPw4amWVHmmPx64n8OyKjnc8KXVCHT+mBaLoVJuwB3AXZIQ1r
        lg1naa9bbwKBgQCCtPu9b0on1ZIYv1teNuXe5kDygwuB8Rv7Q4WM64wHj3D+XSCm
        dLC6JObiku94TymFGwPIc6EQF1WAsyZSOgYzJZjcLOAywp3PouWA11V3MdXGs1Pu
        o6RwP65FegbKt0A4sJnXvgvwHnoUriBiokv4QO20vyGy+BUzgTSoEc8FRQKBgFUw
        1XNAB+FprXC7Xv7ighpCZwqf7/1aIsvu0Et0v0R1gZaP86eosb/uJz0JcBc/b6nz
        zOL2RisjpvV8n14khzhoKIZINQ6iumVumIh0fAe7rXf0otJHO54/OFf6eGxR9fMd
        56ArrH7qX/pw1sCQClh56xtG+dd9qxQpUiGP1cazAoGAFxwlZbfqL+5dcckpUrcO
        JicPpyDRGy0rH2QRXCUADlakWlQWZYjiJ9RlzRnmeduw6AXD2fACssxXMLiX3b7l
        msn/DAe2gzKDxoScKE06kZa7feh12G9tmiLkWviiPTUOFuYI/eDFNv10IGm1jpLi
        YFqHYilbld1i+bGqbPPVdvA=
        -----END PRIVATE KEY-----
        """
    public static let onePublicPEM = """
        -----BEGIN PUBLIC KEY-----
        MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAmmp0bLFIKmsrigX970FM
        NxGRmLSRpJII+TF1hzx8YhcR8YoGP403bO5bPjMmV3O2PL04+N6HghI2xlcBCfLs
        cAnSc3Zbq4peRGV5UvP+UzeSAMe0M0u8mfbGLtP8BV4TTqijTbkuX9ouSA16z1AE
        9H30lGsP9stQrHqER3V4Jfag64c9vuaoVFpQ0MT945bj+PcR/4xOt09TTDwU1kzl
        hUrv7YCbRMduZ59QbDMpg1iCKF57R9Zd0oktwVt9cE2kZUd9Gh7WAM5sT0SdSr8A
        cjqHUi99aK/Z8vgW9VVyoXkmPSP3F57WuKwV2ockPLyyyuXdisEmnQieZvku2zkZ
        vQIDAQAB
        -----END PUBLIC KEY-----
        """
    public static let oneModulus =
        "mmp0bLFIKmsrigX970FMNxGRmLSRpJII-TF1hzx8YhcR8YoGP403bO5bPjMmV3O2PL04-N6HghI2xlcBCfLscAnSc3Zbq4peRGV5UvP-UzeSAMe0M0u8mfbGLtP8BV4TTqijTbkuX9ouSA16z1AE9H30lGsP9stQrHqER3V4Jfag64c9vuaoVFpQ0MT945bj-PcR_4xOt09TTDwU1kzlhUrv7YCbRMduZ59QbDMpg1iCKF57R9Zd0oktwVt9cE2kZUd9Gh7WAM5sT0SdSr8AcjqHUi99aK_Z8vgW9VVyoXkmPSP3F57WuKwV2ockPLyyyuXdisEmnQieZvku2zkZvQ"
    public static let twoPrivatePEM = """
        -----BEGIN PRIVATE KEY-----
        MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCgm52Brd7E6mSo
        Pe9QQ/l7ZMBaEyqmcT8ZR471CfXPHOpzV8yBLXZuKJkIw3Zq6DNEmvhWzuW4MjF8
        PdxAQUhqDXR98qIPsgjARFna5bn5jp+VYL+733wABq69WGM9Su+aVMkL10RqEfSV
        81zvQsG8GEkPaioxWwCsbltwW2mSsgYJkPtfb6qtavpAeNkYAqcyk5rKc9/sujrM
        DuJ/vRRK5ruuGJJbUzbXOdMXhS48aaHjeBEiUHRBMMcFqPF51MvlcnCYnEmbWSgj
        8y4oOp7ZVj/6IwDTJ4UD/lgTLlu6R+/ttlZxuLj4K9Uyf0DivTEDuMfr+3usmz2O
        NO/oJsALAgMBAAECggEAAy3L/8xCYQZnU0x/3J2ue0qYDhBcDer8PegEhIVxHUDW
        w81Z6bf4efS0FrrRBguuMW5EemoM8kjittv97IhTl8RyvlLGR2ZANcIElJ3Aa8KZ
        a6+nC9/ACLtudlFLYY6xUGOGOTBGao0MGMhg2gbUZoCFOFi4bhKoNZbXmNE5Co4T
        GrPvbgBNy4YUHyzJjqjR02BZ6OAUfeIvp0w8iLjaeRCI+5fC6IaxJQsXXefrj4CS
        17N2Fxm5oh+juHE1c7oWgvtSzhg8PCqWsD1afiChRrcbr3D+7/cRVyy1lt48bAcY
        NnFnZhisRAM8iNihHDAyKCyFKQj27kffU124i6QqEQKBgQDe8vFP3q3mtaZ0b6YQ
        BlAa/AXfgFjNJTij4P3N3dChzdj5Oe8FnvFKDpH336m+r2wTBWdXuj9bE6zRGQss
        Y0BQwZOEk2aJtOQcL+2UCItbQvX4oyAawUbqUxDc1pkrr5IdMc7sjzauKeiJ7zDt
        54QddkQq8iMxQ//B3n7pg+N52wKBgQC4asl7jwTXC+PGRGys00JrzvldPSX0OsqJ
        gFpuNMbQHaovf8IJq2PuN6+i+Rul3v9EJd/0EvIAgW93eHR6ZxebqCFGU1qW75po
        cnODyzF4aPEfZiONPFcWYj1bevsYouYxbFj9HDg5+CrHrYPyciI2xd0UIi3RL3JY
        znTAW8ShkQKBgA57V2NpwoAG8p4DlpTZ5CAsmLEQ5DPHJCu49KOHsgKgnWRq9/S0
        g1XdJmwkciE5wdpmcnUHWxAucf5PEyO5+raELHHjJTjysBKIpnUELRErg1C4P+Cd
        B183MBQ4OFDXIbWVw6woDVQ40qsLB3GcpT9IrFrhyZlsolNUgYfnkkIbAoGAQr/c
        J43PmaqjCftwPmnE69KhbX8ZgrnY30YG9UbDA0cJd2HNsMRJSkr7loiF2lbJnDf9
        RJGq6EXxO5PszPUNlXiYeqTm8CTPhaiPaQ+d21BYnh3RFmjVuLNcNAViZztnCFKI
        Ly0MqObLTTTfwlxPR/X8HDJ21PVQdRZdKdbNaBECgYBZKfaDfbvSmxedjsKMFBX2
        idnb2pTih2RDQYWm6LP0+NNbrw0u+iVMuIA7DsMxOuuwMBP6LTqgPykWTuPp3yKk
        fjqAf55B6QK4gJLKC4EL0iw1v3jGtNmUVddiv8CM6F7bPcLIMVc9nMLeNYsThKBb
        kNTxg3oAzji8GPdTQmOkRw==
        -----END PRIVATE KEY-----
        """
    public static let twoPublicPEM = """
        -----BEGIN PUBLIC KEY-----
        MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAoJudga3exOpkqD3vUEP5
        e2TAWhMqpnE/GUeO9Qn1zxzqc1fMgS12biiZCMN2augzRJr4Vs7luDIxfD3cQEFI
        ag10ffKiD7IIwERZ2uW5+Y6flWC/u998AAauvVhjPUrvmlTJC9dEahH0lfNc70LB
        vBhJD2oqMVsArG5bcFtpkrIGCZD7X2+qrWr6QHjZGAKnMpOaynPf7Lo6zA7if70U
        Sua7rhiSW1M21znTF4UuPGmh43gRIlB0QTDHBajxedTL5XJwmJxJm1koI/MuKDqe
        2VY/+iMA0yeFA/5YEy5bukfv7bZWcbi4+CvVMn9A4r0xA7jH6/t7rJs9jjTv6CbA
        CwIDAQAB
        -----END PUBLIC KEY-----
        """
    public static let twoModulus =
        "oJudga3exOpkqD3vUEP5e2TAWhMqpnE_GUeO9Qn1zxzqc1fMgS12biiZCMN2augzRJr4Vs7luDIxfD3cQEFIag10ffKiD7IIwERZ2uW5-Y6flWC_u998AAauvVhjPUrvmlTJC9dEahH0lfNc70LBvBhJD2oqMVsArG5bcFtpkrIGCZD7X2-qrWr6QHjZGAKnMpOaynPf7Lo6zA7if70USua7rhiSW1M21znTF4UuPGmh43gRIlB0QTDHBajxedTL5XJwmJxJm1koI_MuKDqe2VY_-iMA0yeFA_5YEy5bukfv7bZWcbi4-CvVMn9A4r0xA7jH6_t7rJs9jjTv6CbACw"
    public static let exponent = "AQAB"

    /// Self-signed for onePrivatePEM (test only; valid 2020-01-01 to 2120-01-01).
    public static let oneCertificatePEM = """
        -----BEGIN CERTIFICATE-----
        MIIC3DCCAcSgAwIBAgICEJIwDQYJKoZIhvcNAQELBQAwMDEuMCwGA1UEAwwlZGNy
        LXNoaW0gY2xpZW50IGFzc2VydGlvbiAodGVzdCBvbmx5KTAgFw0yMDAxMDEwMDAw
        MDBaGA8yMTIwMDEwMTAwMDAwMFowMDEuMCwGA1UEAwwlZGNyLXNoaW0gY2xpZW50
        IGFzc2VydGlvbiAodGVzdCBvbmx5KTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCC
        AQoCggEBAJpqdGyxSCprK4oF/e9BTDcRkZi0kaSSCPkxdYc8fGIXEfGKBj+NN2zu
        Wz4zJldztjy9OPjeh4ISNsZXAQny7HAJ0nN2W6uKXkRleVLz/lM3kgDHtDNLvJn2
        xi7T/AVeE06oo025Ll/aLkgNes9QBPR99JRrD/bLUKx6hEd1eCX2oOuHPb7mqFRa
        UNDE/eOW4/j3Ef+MTrdPU0w8FNZM5YVK7+2Am0THbmefUGwzKYNYgihee0fWXdKJ
        LcFbfXBNpGVHfRoe1gDObE9EnUq/AHI6h1IvfWiv2fL4FvVVcqF5Jj0j9xee1ris
        FdqHJDy8ssrl3YrBJp0Inmb5Lts5Gb0CAwEAATANBgkqhkiG9w0BAQsFAAOCAQEA
        DhUhOto9XkLDfSuYnyLvnBu7gTiJG7q/pqblxdV1anTE83aP3BVrdDHDMa93+9Ch
        /BzUJ4v2FSB7tYnr7dYNJa0Xh1CxvAw3IixtEwIL202h2Sv1FTLRnyPY8mcMdSzS
        fTkCYJT02xNA7qU/7jo1SKONfXt7NzenUIoDlCP2Y1KrJObDIvQL5Szm/k1nDF8Y
        lCwh7GagBwnmNgbK5mQKT4wi4RH7oo4tlgrmILdrq9DRqFKUuHc6+kPQvmKO4Gpd
        i3yk9kosMqyAxKx+IwJb50ooFzM0btIInI4I0hBZcoxojvybfm5NpFIn5KP/F2dX
        22gmh6ryZmORfGpgXtfUZg==
        -----END CERTIFICATE-----
        """
    /// Computed independently (Python hashlib over the certificate's DER).
    public static let oneCertificateSHA256Thumbprint = "lO20E5kT-4h7hc-ZNJtRiapcBLOaILE2iKI2syw4LXs"
    public static let oneCertificateSHA1Thumbprint = "lF6jRVqs7gMXM3UmOsuxRPUdTkc"
    /// The certificate's notAfter (2120-01-01).
    public static let oneCertificateNotAfter = Date(timeIntervalSince1970: 4_733_510_400)
}
