//! config.json (browser) and the service configuration (native): parsing and validation.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mes_client::{PortalConfig, Runtime, ServiceConfig};

fuzz_target!(|text: &str| {
    for runtime in [Runtime::Browser, Runtime::Native] {
        if let Ok((config, _)) = PortalConfig::from_json(text, runtime) {
            // A valid configuration never carries a secret into the browser.
            if runtime == Runtime::Browser {
                assert!(config.web_apis.iter().all(|api| api.client_secret.is_none()));
            }
        }
    }
    let _ = ServiceConfig::from_json(text);
});
