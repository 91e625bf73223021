// Shared by the targets: a provider as a real discovery answer would describe it.
use mes_client::{HttpResponse, ProviderMetadata, parse_discovery};

pub const AUTHORITY: &str = "https://aim.plant.example/identitymanager";

pub fn json_response(status: u16, content_type: &str, body: &[u8]) -> HttpResponse {
    HttpResponse::new(status, body).with_header("content-type", content_type)
}

pub fn metadata() -> ProviderMetadata {
    let doc = format!(
        r#"{{"issuer":"{AUTHORITY}","authorization_endpoint":"{AUTHORITY}/connect/authorize","token_endpoint":"{AUTHORITY}/connect/token",
            "jwks_uri":"{AUTHORITY}/jwks","code_challenge_methods_supported":["S256"],"authorization_response_iss_parameter_supported":true}}"#
    );
    parse_discovery(AUTHORITY, &json_response(200, "application/json", doc.as_bytes())).expect("the fixed discovery document is valid")
}
