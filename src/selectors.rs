//! Where the portal's parts are in its markup — the portal's own list, which the e2e suites
//! (through their page objects), the bench and the portal's browser tests (`tests/web/`) all
//! read, so a change to the markup is one change here, beside the views. Each selector also works inside an element that holds a grid (a test's
//! mount point, an embedding page's shadow root).

/// The grid's body rows (not the spacers that stand in for rows out of view).
pub const ROWS: &str = "table.grid tbody tr[role=row]";
/// The grid's selected body rows.
pub const SELECTED_ROWS: &str = "table.grid tbody tr[role=row][aria-selected=true]";
/// The grid's column headers.
pub const HEADERS: &str = "table.grid thead tr[role=row] th";
/// The grid's status line (how many rows, whether more are coming, how many are selected).
pub const STATUS: &str = ".grid-status";
/// The grid's scrolling box.
pub const VIEWPORT: &str = ".grid-viewport";
/// The grid's quick filter (the search box above it).
pub const QUICK_FILTER: &str = ".grid-tools input[type=search]";
/// The sign-in page's button.
pub const SIGN_IN: &str = "button#sign-in";
/// The signed-in portal's Sign out button.
pub const SIGN_OUT: &str = "button#sign-out";
/// The sign-in button of an embedded grid (a page may hold several).
pub const EMBEDDED_SIGN_IN: &str = "button.sign-in";
/// "Sign in as someone else" on a denial.
pub const SWITCH_USER: &str = "button.switch-user";

/// `script` with the selectors above in scope as `SEL` (`SEL.rows`, `SEL.selectedRows`, `SEL.headers`,
/// `SEL.status`, `SEL.viewport`, `SEL.quickFilter`), for scripts run in the page. The script is
/// wrapped in a block, so it may still `return` (WebDriver runs it as a function body) and
/// leaves no global behind when run at a document's start.
pub fn in_script(script: &str) -> String {
    format!(
        "{{ const SEL = {{ rows: '{ROWS}', selectedRows: '{SELECTED_ROWS}', headers: '{HEADERS}', status: '{STATUS}', \
         viewport: '{VIEWPORT}', quickFilter: '{QUICK_FILTER}' }};\n{script}\n}}"
    )
}
