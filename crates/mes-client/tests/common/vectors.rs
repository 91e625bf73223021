// Real RS256 and ES256 tokens with their public keys (generated once with Python's cryptography).
// Claims: iss https://aim.test/identitymanager, aud mes-portal, nonce n-1, exp 2100-01-01.
#[allow(dead_code)]
pub const RSA_JWK: &str = r#"{"keys":[{"kty":"RSA","kid":"test-rsa","alg":"RS256","use":"sig","n":"kDvMSe11ev--M-ehBsCd2ovSNmFt75Nr6oFQIfj7LbNMya_TcLAGm3aM2ZJiYpn0VJg4eYbLiE6mL48zaipdqMddTRIxFyvKPiODYDhJlZ8lQXEH7UcV3Fe4YUDzRD-7ZKlwaNB4QmDTYvcE6mMC2cnRgpB2M3pS0UIlOZ6J7lYDmLK4HHbSl_5Ob_xl4xdRA-yqGifQ4VkXi9Y5XYzXDHUmWtgGQqkd1Y-oPEbATZHNtYhNWKb3AvLEPmqB6DU1A-kfqllnWygUwPpmeNE5ajS0St1_nfYcHHPtKuItMm_pTLZXkF-bUL-oRoZ8upWaKhQVLbCI-fZUuFLcKCMZgQ","e":"AQAB"}]}"#;
#[allow(dead_code)]
pub const RSA_TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QtcnNhIiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2FpbS50ZXN0L2lkZW50aXR5bWFuYWdlciIsImF1ZCI6Im1lcy1wb3J0YWwiLCJzdWIiOiIxIiwiZXhwIjo0MTAyNDQ0ODAwLCJpYXQiOjE3MDAwMDAwMDAsIm5vbmNlIjoibi0xIiwicHJlZmVycmVkX3VzZXJuYW1lIjoiUExBTlRcXGFsaWNlIn0.Rl81K_fLl58HJlDZ4nrYINz1gKJkMSK1kmLo47bWkjgltothpxn-KTwksVymy8-sEf1p6EReGnPOcfdOeYABiHWueIXpUecxdDNF7la7SG8TJwUei66694Czpg25l1Nj_559N9eR7f4GCQKigz4QEJRLXVhT3uaMJqNCa8FIn4feb0xIVb9PIX4oLGN_XXL9HzwZkHUt2KKRKQ3PCHfJ853oDYcSFKJDs4MQDng7xNb4glQPwxfVTUaxrLj5eRpSgMjGoxoiyCkYDUG-VSXeFgdzc4LtdPbmSTvVuiBSkKSNk_TSUGhTQKW100WAha8-PKQHfE_Qa-k3Z9IVnOB_sw";
#[allow(dead_code)]
pub const EC_JWK: &str = r#"{"keys":[{"kty":"EC","kid":"test-ec","crv":"P-256","x":"HGIej-WM5C76TDZ-E0EAUFIZl9QOL0NmFIBpVlAe7Qg","y":"SL1U7U4qYQGuWMbTtxnQ2iM3kg7usEyl7fHxUb0OoqI"}]}"#;
#[allow(dead_code)]
pub const EC_TOKEN: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6InRlc3QtZWMifQ.eyJpc3MiOiJodHRwczovL2FpbS50ZXN0L2lkZW50aXR5bWFuYWdlciIsImF1ZCI6Im1lcy1wb3J0YWwiLCJzdWIiOiIxIiwiZXhwIjo0MTAyNDQ0ODAwLCJpYXQiOjE3MDAwMDAwMDAsIm5vbmNlIjoibi0xIiwicHJlZmVycmVkX3VzZXJuYW1lIjoiUExBTlRcXGFsaWNlIn0.caoVE_W7uRxWwAo4oItk77QrBpSA2Zu5nQyp0pGHwV2GvgUGSDGrJybgkfiv-b2THVwNY8BAOAEfMtQqvkLJ1w";
