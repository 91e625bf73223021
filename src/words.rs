//! The portal's own words, in one place: every sentence, label and button the portal shows,
//! English built in, other languages as files (`locales/<language>.json`, a flat object from
//! key to text) loaded at start. Adding a language is adding a file and naming it in
//! config.json's `translations` (ARCHITECTURE.md, "Languages and formats").
//!
//! `{name}` in a text is filled in by [`fill`]; a translation keeps the same names (a unit test
//! checks every shipped file: the same keys, the same `{names}`). What the MES, the identity
//! authority or the browser said (the `<pre>` blocks of the failure states, technical error
//! details) is shown as they said it.
//!
//! Numbers and dates are formatted by the browser's `Intl` for the chosen locale (see
//! [`count`] here and `grid::format`), so no locale tables are in the wasm.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Something the portal says, in English, with its key in translation files.
pub trait Text: Copy {
    /// Its key in `locales/<language>.json`.
    fn key(self) -> &'static str;
    /// In English.
    fn english(self) -> &'static str;
}

/// Declares a table of words: `Name = "key": "English",`. A table's texts are code of their
/// own (a `match`), so a table used only by a part loaded on demand travels with that part
/// instead of weighing on the first load.
macro_rules! words {
    ($(#[$doc:meta])* pub enum $table:ident { $($name:ident = $key:literal : $en:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $table { $(#[doc = $en] $name,)* }
        impl Text for $table {
            fn key(self) -> &'static str {
                match self { $(Self::$name => $key,)* }
            }
            fn english(self) -> &'static str {
                match self { $(Self::$name => $en,)* }
            }
        }
        #[cfg(test)]
        impl $table {
            /// Every word: key and English.
            const ALL: &[(&str, &str)] = &[$(($key, $en),)*];
        }
    };
}

words! {
    /// Words of the first load: starting, signing in, the shell, grids in other pages.
    pub enum Word {
        // Starting and signing in.
        Connecting = "start.connecting": "Connecting to the identity authority…",
        OpeningSignIn = "start.opening_sign_in": "Opening the sign-in page…",
        PortalName = "portal.name": "MES Web Portal",
        DefaultAuthority = "sign_in.default_authority": "AVEVA Identity Manager",
        SignInWith = "sign_in.with": "Sign in with your plant account at {authority}.",
        SignIn = "action.sign_in": "Sign in",
        SignInAgain = "action.sign_in_again": "Sign in again",
        SignInAsSomeoneElse = "action.sign_in_as_someone_else": "Sign in as someone else",
        SignOut = "action.sign_out": "Sign out",
        TryAgain = "action.try_again": "Try again",
        TryAgainNow = "action.try_again_now": "Try again now",
        RetryNow = "action.retry_now": "Retry now",
        Countdown = "retry.countdown": "Trying again in {seconds} s…",
        SignedOut = "signed_out.notice": "You are signed out.",
        SignedOutElsewhere = "signed_out.elsewhere": "You signed out in another tab.",
        PopupClosed = "signed_out.popup_closed": "The sign-in window was closed before signing in.",
        PopupCutLoose = "signed_out.popup_cut_loose": "The identity authority's sign-in page cut its window loose from this one, so the sign-in cannot come back here. Close that window; if signing in here keeps failing, IT must let AIM's sign-in pages work in pop-ups (no Cross-Origin-Opener-Policy on them).",
        EndSessionFailed = "signed_out.end_session_failed": "You are signed out of the portal, but the identity authority's sign-out page could not be opened ({why}): close the browser to end its session.",
        NoEndSession = "signed_out.no_end_session": "You are signed out of the portal. The identity authority offers no sign-out address, so its own session may still be open: close the browser to end it.",
        // Configuration and the authority at start.
        // A sign-in that did not complete.
        // The session, in the header.
        HealthValidFor = "session.valid_for": "✓ session valid, {minutes} min left",
        HealthValid = "session.valid": "✓ session valid",
        HealthRenewsNext = "session.renews_next": "session renews with the next request",
        HealthRenewing = "session.renewing": "session renewing…",
        HealthOfflineFor = "session.offline_for": "⚠ AIM offline: session valid {minutes} min more, renewal retried",
        HealthOfflineWaiting = "session.offline_waiting": "⚠ AIM offline: session waiting for renewal",
        HealthNeedsSignIn = "session.needs_sign_in": "session expired: renewing through AIM",
        HealthEnded = "session.ended": "✗ session expired: sign in again",
        // The shell.
        Menu = "shell.menu": "Menu",
        Lookups = "shell.lookups": "Lookups",
        PortalSection = "shell.portal": "Portal",
        WebApis = "shell.web_apis": "Web APIs",
        Diagnostics = "shell.diagnostics": "Diagnostics",
        Genealogy = "shell.genealogy": "Lot genealogy",
        NoLookups = "shell.no_lookups": "No lookups are configured.",
        PageNotFound = "shell.page_not_found": "Page not found",
        PageNotFoundText = "shell.page_not_found_text": "There is no page at this address.",
        GoToFirstLookup = "shell.go_to_first_lookup": "Go to the first lookup",
        // Parts loaded on demand.
        PartGrid = "part.grid": "the lookup grid",
        PartPage = "part.page": "this page",
        PartWebApis = "part.web_apis": "the Web APIs page",
        PartDiagnostics = "part.diagnostics": "Diagnostics",
        PartGenealogy = "part.genealogy": "the lot genealogy page",
        PartLoading = "part.loading": "Loading {part}…",
        PartNotLoaded = "part.not_loaded": "The portal could not load {part}",
        SignInPartNotLoaded = "part.sign_in_not_loaded": "the part of the portal that finishes a sign-in could not be loaded (the network?); sign in again",
        PartNotLoadedText = "part.not_loaded_text": "Its file did not arrive from the portal's server (a network interruption, or the server is being updated). The rest of the portal keeps working.",
        // Grids in other pages.
        EmbedSignIn = "embed.sign_in": "Sign in to the MES to see this lookup. A sign-in window opens; it closes by itself.",
        EmbedFinishing = "embed.finishing": "Finish signing in in the window that opened…",
        NoSuchLookup = "embed.no_such_lookup": "No such lookup",
        NoSuchLookupText = "embed.no_such_lookup_text": "config.json has no lookup named {name}.",
        PartRowsGrid = "part.rows_grid": "the grid",
        RowsUnreadable = "embed.rows_unreadable": "These rows could not be read",
        RowsNotMesStyle = "embed.rows_not_mes_style": "The rows are not an MES-style answer: {why}.",
        GridStopped = "embed.grid_stopped": "This MES lookup stopped because of an internal error. Reload the page to try again.",
        // The page shown after an internal error.
        PanicTitle = "panic.title": "The portal stopped because of an internal error",
        PanicNotYou = "panic.not_you": "Nothing you did caused this. Your data in the MES is unchanged.",
        PanicReload = "panic.reload": "Reload the portal",
        PanicConsole = "panic.console": "The browser console has the details for a bug report.",
    }
}

words! {
    /// Words of the lot genealogy page (loaded with it).
    pub enum TraceWord {
        Title = "trace.title": "Lot genealogy",
        Intro = "trace.intro": "Follow a lot through the MES's consumption records: where it went (where-used, for a recall) or what went into it (where-from), generation by generation.",
        Lot = "trace.lot": "Lot",
        Direction = "trace.direction": "Direction",
        WhereUsed = "trace.where_used": "Where used — what it went into",
        WhereFrom = "trace.where_from": "Where from — what went into it",
        Trace = "trace.trace": "Trace",
        NeedsLot = "trace.needs_lot": "Lot: required",
        Asking = "trace.asking": "{lots} lots so far, still asking…",
        Reached = "trace.reached": "{lots} lots in {generations} generations",
        Missing = "trace.missing": "Missing branches: {branches} — the MES did not answer for them. What arrived is kept.",
        Truncated = "trace.truncated": "The walk stopped at {lots} lots: there are more. Trace from a lot further along to see them.",
        NoLinks = "trace.no_links": "The MES has no consumption records for this lot in this direction.",
        RetryMissing = "trace.retry_missing": "Ask the missing branches again",
        Retry = "trace.retry": "Ask again",
        Export = "trace.export": "Export the affected lots (CSV)",
        StateAsking = "trace.state_asking": "asking",
        StateMissing = "trace.state_missing": "missing",
        StateRepeat = "trace.state_repeat": "repeat",
        StateLoop = "trace.state_loop": "loop",
        StateTooDeep = "trace.state_too_deep": "not walked",
        RepeatOf = "trace.repeat_of": "reached above: see {lot}",
        LoopTo = "trace.loop_to": "loop: {lot} is its own ancestor here",
        TooDeep = "trace.too_deep": "deeper than {generations} generations: not walked",
        MissingWhy = "trace.missing_why": "this branch is missing: {why}",
        WhyOffline = "trace.why_offline": "the identity authority is offline",
        WhyUnreachable = "trace.why_unreachable": "the MES could not be reached",
        WhyDenied = "trace.why_denied": "the MES denied the request",
        WhyExpired = "trace.why_expired": "your session has expired",
        WhyOther = "trace.why_other": "the MES answered with an error",
        WorkOrder = "trace.work_order": "work order {wo}",
        CsvTruncated = "trace.csv_truncated": "Cut: the walk stopped at its most lots; there are more.",
    }
}

words! {
    /// Words of pages seldom seen: the problems at start (a sign-in that did not complete, a
    /// broken config.json, an authority that does not answer) and the framed grid's page for
    /// other sites (loaded with them).
    pub enum RareWord {
        ConfigTitle = "config.title": "The portal's configuration has problems",
        ConfigIntro = "config.intro": "The portal cannot start until config.json is fixed. Ask the person who deployed the portal to correct:",
        ConfigDocs = "config.docs": "docs/deploy.md explains every field.",
        AuthorityTitle = "authority.title": "AVEVA Identity Manager cannot be reached",
        AuthorityNotRead = "authority.not_read": "The portal could not read the identity authority's settings at {address}.",
        AuthorityCauses = "authority.causes": "Likely causes: the System Management Server is offline, the address in config.json is wrong, or it does not allow this portal's origin (CORS).",
        SignInFailedTitle = "sign_in_failed.title": "Sign-in did not complete",
        AdviceRefused = "sign_in_failed.refused": "The identity authority said no. Try again, or ask your administrator whether this account may use the portal.",
        AdviceBadUrl = "sign_in_failed.bad_url": "An address in config.json or in the authority's settings is not usable; ask the person who deployed the portal.",
        AdviceNoRandomness = "sign_in_failed.no_randomness": "This browser gave no secure random numbers; try another browser.",
        AdviceCallback = "sign_in_failed.callback": "Nothing was stored. If this keeps happening, the link may have been tampered with or opened twice.",
        AdviceTokenOutage = "sign_in_failed.token_outage": "The identity authority did not answer while finishing the sign-in. Try again in a moment.",
        AdviceTokenRefused = "sign_in_failed.token_refused": "The identity authority refused to finish the sign-in. Try again; if it keeps happening, its registration of this portal may be wrong.",
        AdviceIdToken = "sign_in_failed.id_token": "The identity authority's answer did not pass the checks, so it was not used. Nothing was stored. Check this computer's clock, then try again.",
        AdviceDiscovery = "sign_in_failed.discovery": "The identity authority's keys could not be read. Try again in a moment.",
        AdviceBrowser = "sign_in_failed.browser": "The browser blocked a step of the sign-in (storage or a popup). Allow it for this site, then try again.",
        AdviceCutLoose = "sign_in_failed.popup_cut_loose": "Close this window. Signing in from a page of another site needs AIM's sign-in pages to send no Cross-Origin-Opener-Policy; until IT changes that, open the portal itself to sign in.",
        FrameWaiting = "frame.waiting": "Waiting for the page that shows this lookup…",
        FrameNotFramed = "frame.not_framed": "This address shows an MES lookup inside another site's page. To use the portal itself, open it here:",
        FrameOpenPortal = "frame.open_portal": "Open the MES Web Portal",
        FrameRefused = "frame.refused": "This page is not allowed to show MES lookups. Ask the person who deployed the portal to add its address to embed_origins in config.json.",
        FrameSessionEnded = "frame.session_ended": "Your session has ended at the identity authority (you may have signed out in another window).",
        FrameLookupRefused = "frame.lookup_refused": "This page may not show the lookup “{lookup}” this way. Ask the person who deployed the portal: config.json's embed_limits say which lookups and selection modes each site may use.",
    }
}

words! {
    /// Words of the lookup grid and of what the MES answered (loaded with the grid).
    pub enum GridWord {
        // What the MES answered.
        ExpiredTitle = "expired.title": "Your session has expired",
        ExpiredText = "expired.text": "Sign in again to continue; you will come back to this page.",
        RenewalDidNotLast = "expired.renewal_did_not_last": "Automatic renewal was tried a moment ago and did not last, so it is not repeated.",
        RenewingTitle = "renewing.title": "Renewing your session…",
        RenewingText = "renewing.text": "Your sign-in is being renewed through AVEVA Identity Manager; you will come back to this page.",
        YourAccount = "denied.your_account": "your account",
        DeniedTitle = "denied.title": "Access denied by the MES",
        DeniedRefusedFor = "denied.refused_for": "The MES refused this lookup for {who}:",
        DeniedExplain = "denied.explain": "Your sign-in worked, but {who} is not an active MES user or lacks the privilege for this data. Ask your MES administrator to add the account as an MES user with the needed privileges.",
        OfflineTitle = "offline.title": "AVEVA Identity Manager is offline",
        OfflineText = "offline.text": "The MES cannot check your sign-in because it cannot reach the identity authority (the System Management Server). Your page is kept; nothing needs to be done here.",
        UnreachableTitle = "unreachable.title": "The MES could not be reached",
        UnreachableNoAnswer = "unreachable.no_answer": "No answer from {address}.",
        LikelyCauses = "unreachable.likely_causes": "Likely causes:",
        CauseStopped = "unreachable.cause_stopped": "the MES Web API (middleware) is stopped or the server is down;",
        CauseBaseAddress = "unreachable.cause_base_address": "the base address in config.json is wrong;",
        CauseCors = "unreachable.cause_cors": "the MES does not allow this portal's origin {origin} (CORS);",
        CauseCertificate = "unreachable.cause_certificate": "the server's certificate is not trusted by this computer.",
        UnexpectedTitle = "unexpected.title": "Unexpected answer from the MES",
        UnexpectedStartsWith = "unexpected.starts_with": "It starts with:",
        UnexpectedHint = "unexpected.hint": "A proxy or login page may be answering instead of the MES Web API; check the base address.",
        UnknownLookupTitle = "not_found.title": "The MES does not know this lookup",
        UnknownLookupHint = "not_found.hint": "Check the endpoint name of this lookup in config.json.",
        NotConfiguredTitle = "not_configured.title": "This lookup is not set up correctly",
        NotConfiguredHint = "not_configured.hint": "Nothing was sent to the MES. Ask the person who deployed the portal to correct config.json (docs/deploy.md explains every field).",
        ServerErrorTitle = "server_error.title": "The MES reported an error (HTTP {status})",
        // The lookup grid.
        ReloadRows = "grid.reload": "Reload rows",
        ReloadRowsHint = "grid.reload_hint": "Ask the MES again",
        LoadingFromMes = "grid.loading_from_mes": "Loading rows from the MES…",
        LoadingRows = "grid.loading": "Loading rows…",
        FilterRows = "grid.filter_rows": "Filter rows",
        Columns = "grid.columns": "Columns",
        ColumnsShown = "grid.columns_shown": "Shown",
        ColumnsPinned = "grid.columns_pinned": "Pinned",
        PinColumn = "grid.pin_column": "Keep {column} in view when scrolling sideways",
        CopyCell = "grid.copy_cell": "Copy cell",
        CopyCellHint = "grid.copy_cell_hint": "The highlighted cell (Ctrl+C in the grid)",
        TallRows = "grid.tall_rows": "Larger rows",
        TallRowsHint = "grid.tall_rows_hint": "Taller rows, easier to hit with a finger or a glove",
        CopyRows = "grid.copy_rows": "Copy rows",
        CopyRowsHint = "grid.copy_rows_hint": "The selected rows, or all rows that match the filter, with their headers (Ctrl+Shift+C): they paste into Excel as a table",
        RowsCopied = "grid.rows_copied": "Copied {rows} rows with their headers: paste them into a spreadsheet.",
        RowCopied = "grid.row_copied": "Copied 1 row with its headers: paste it into a spreadsheet.",
        RowsCopyRefused = "grid.rows_copy_refused": "The browser did not allow copying the rows; use Export CSV instead.",
        FindFound = "grid.find_found": "Found “{value}” ({column}).",
        FindMissing = "grid.find_missing": "“{value}” is not among these {rows} rows ({column}).",
        FindMissingCut = "grid.find_missing_cut": "“{value}” is not among the first {rows} rows ({column}); the MES has more: narrow the question.",
        FindNoColumn = "grid.find_no_column": "These rows have no column {column} to find “{value}” in.",
        Print = "grid.print": "Print",
        PrintHint = "grid.print_hint": "The rows that match the filter, in the order shown, as pages with the column headers on each",
        PrintNow = "grid.print_now": "Print",
        PrintClose = "grid.print_close": "Close",
        PrintedAt = "grid.printed_at": "printed {time}",
        PrintFirst = "grid.print_first": "the first {printed} of {rows} rows: narrow the filter to print the rest, or export CSV",
        Totals = "grid.totals": "Totals",
        TotalsOverSelected = "grid.totals_selected": "Over the selected rows ({rows})",
        TotalsOverShown = "grid.totals_shown": "Over the rows shown ({rows})",
        TotalsNone = "grid.totals_none": "These rows have no number columns to add up.",
        TotalSum = "grid.total_sum": "Sum",
        TotalMin = "grid.total_min": "Least",
        TotalMax = "grid.total_max": "Greatest",
        ExportCsv = "grid.export": "Export CSV",
        ExportCsvHint = "grid.export_hint": "The rows that match the filter, in the order shown",
        ExportXlsx = "grid.export_xlsx": "Export Excel",
        ExportXlsxHint = "grid.export_xlsx_hint": "The rows that match the filter, in the order and columns shown, as an Excel workbook: numbers as numbers, times as dates on the plant's clock",
        XlsxMaking = "grid.xlsx_making": "Making the Excel file…",
        XlsxMade = "grid.xlsx_made": "Excel file of {rows} rows made.",
        XlsxFailed = "grid.xlsx_failed": "The Excel file could not be made ({why}); Export CSV still works.",
        XlsxNotLoaded = "grid.xlsx_not_loaded": "The Excel export could not be loaded (the network?); try again, or use Export CSV.",
        XlsxRowsSheet = "grid.xlsx_rows_sheet": "Rows",
        XlsxAboutSheet = "grid.xlsx_about_sheet": "About these rows",
        XlsxUtc = "grid.xlsx_utc": "{column} (UTC)",
        XlsxAsWritten = "grid.xlsx_as_written": "{column} (as the MES wrote it)",
        XlsxFirst = "grid.xlsx_first": "The first {written} of {rows} rows: an Excel sheet holds no more. Narrow the filter, or export CSV.",
        XlsxReadAt = "grid.xlsx_read_at": "exported {time}",
        NoRows = "grid.no_rows": "No rows",
        NoRowsText = "grid.no_rows_text": "The MES answered with an empty list for this lookup.",
        PickCellFirst = "grid.pick_cell_first": "Pick a cell first (click it, or move to it with the arrow keys).",
        Copied = "grid.copied": "Copied “{text}”",
        CopyRefused = "grid.copy_refused": "The browser did not allow copying “{text}”; select the text and copy it instead.",
        ColumnWidth = "grid.column_width": "{column}: {width} px wide",
        RowsSoFar = "grid.rows_so_far": "{rows} rows so far…",
        RowsSoFarMatch = "grid.rows_so_far_match": "{shown} of {rows} rows so far match…",
        RowsTotal = "grid.rows": "{rows} rows",
        RowsMatch = "grid.rows_match": "{shown} of {rows} rows match",
        RowsCut = "grid.rows_cut": "the first {rows} rows — the MES has more",
        RowsCutMatch = "grid.rows_cut_match": "{shown} of the first {rows} rows match — the MES has more",
        CsvCut = "grid.csv_cut": "Cut: these are the first {rows} rows of the answer; the MES has more.",
        CutTitle = "grid.cut_title": "The first {rows} rows only",
        CutText = "grid.cut_text": "The MES has more rows than this lookup asks for. Narrow the question ({parameters}) or ask for more.",
        CutTextNoParameters = "grid.cut_text_no_parameters": "The MES has more rows than this lookup asks for. Sorting and filtering here see only these rows.",
        AskForMore = "grid.ask_for_more": "Ask for up to {rows} rows",
        AtCeiling = "grid.at_ceiling": "This is the most the portal asks for at once.",
        Ask = "question.ask": "Ask the MES",
        QuestionTitle = "question.title": "Question",
        Optional = "question.optional": "optional",
        Required = "question.required": "required",
        Any = "question.any": "(any)",
        From = "question.from": "{label} from",
        Until = "question.until": "{label} until",
        HoursHint = "question.hours_hint": "whole hours back from now",
        ChoicesUnread = "question.choices_unread": "The list of choices could not be read from the MES; type the value.",
        FillInTitle = "question.fill_in_title": "Fill in the question",
        FillInText = "question.fill_in_text": "This lookup needs {parameters} before the MES is asked.",
        FixQuestion = "question.fix": "The question cannot be sent yet:",
        ProblemMissing = "question.missing": "{label}: required",
        ProblemNumber = "question.number": "{label}: not a number (for example 12 or 2.5)",
        ProblemDateTime = "question.date_time": "{label}: not a date and time (for example 2026-03-01 06:00)",
        ProblemHours = "question.hours": "{label}: a whole number of hours, 1 or more",
        ProblemChoice = "question.choice": "{label}: not one of the choices",
        ProblemBackwards = "question.backwards": "{label}: ends before it starts",
        ProblemTooLong = "question.too_long": "{label}: too long",
        ProblemUnknown = "question.unknown": "“{label}” is not a parameter of this lookup",
        RowsSelected = "grid.rows_selected": "{rows} · {selected} selected",
        HeaderHint = "grid.header_hint": "{column} — click to sort, shift-click to add; Alt+←/→ in the grid changes the width",
        ResizeHint = "grid.resize_hint": "Drag to change the width (Alt+←/→ in the grid)",
        FilterColumn = "grid.filter_column": "Filter {column}",
        FilterNumberHint = "grid.filter_number_hint": ">10, <=5, 10..20",
        FilterTextHint = "grid.filter_text_hint": "text, or >2026-03",
        Utc = "grid.utc": "{column} (UTC)",
        LocalTime = "grid.local_time": "{column} (local time)",
        OpenLinked = "grid.open_linked": "{value}, opens {lookup}",
        RowDetail = "grid.row_detail": "Row detail",
        RowDetailOf = "grid.row_detail_of": "Detail: {value}",
        Close = "grid.close": "Close",
        ReadingRecord = "grid.reading_record": "Reading the whole record from the MES…",
        RecordUnread = "grid.record_unread": "The whole record could not be read; this is the row as the list gave it.",
        ReadAgain = "grid.read_again": "Read again",
        ChangedSinceListed = "grid.changed_since_listed": "changed since the list was read; listed: {value}",
        Trail = "grid.trail": "Lookups followed",
        Yes = "value.yes": "Yes",
        No = "value.no": "No",
    }
}

words! {
    /// Words of the shop floor's tools: scanning, station mode and the session's hard end (loaded
    /// with the signed-in shell and the embedded grids).
    pub enum FloorWord {
        ScanUnknown = "scan.unknown": "“{code}” was scanned, but it is not a kind of code this portal opens (config.json's scan names none for it).",
        IdleTitle = "station.idle_title": "Are you still there?",
        IdleText = "station.idle_text": "This station signs out after {minutes} min without use, so that the next person cannot work as you. Signing out in {seconds} s.",
        StillHere = "station.still_here": "I'm still here",
        SessionEndsIn = "session.ends_in": "Your session ends in {minutes} min (the identity authority's limit): finish, then sign in again.",
        NextUser = "station.next_user": "Next user",
        NextUserHint = "station.next_user_hint": "Signs out now — at AIM too — and keeps this station ready for the next person",
        StationIs = "station.is": "Station {station}",
        StationUnknown = "station.unknown": "The address names station “{station}”, which config.json's station.stations does not list: its lookups are asked as anywhere else.",
    }
}

words! {
    /// Words of the Web APIs and Diagnostics pages (loaded with them).
    pub enum PageWord {
        // Web APIs.
        WebApisIntro = "web_apis.intro": "The Web API definitions from config.json, with the fields of the Enterprise Console's Web API List Item.",
        FieldName = "web_apis.name": "Name",
        FieldDescription = "web_apis.description": "Description",
        FieldSource = "web_apis.source": "Source",
        FieldBaseAddress = "web_apis.base_address": "Base address",
        FieldRequestUri = "web_apis.request_uri": "Request URI",
        FieldAuthenticationMode = "web_apis.authentication_mode": "Authentication mode",
        FieldAuthority = "web_apis.authority": "Authority",
        FieldAudience = "web_apis.audience": "Audience",
        FieldClientId = "web_apis.client_id": "Client ID",
        FieldScope = "web_apis.scope": "Scope",
        UserAccessToken = "web_apis.user_access_token": "User Access Token",
        ServiceAccessToken = "web_apis.service_access_token": "Service to Service Access Token",
        TestConnection = "web_apis.test_connection": "Test connection",
        CopyAuthorizationUrl = "web_apis.copy_authorization_url": "Copy authorization URL",
        AuthorizationUrlCopied = "web_apis.authorization_url_copied": "Copied to the clipboard (the state and PKCE challenge in it are single-use; no token):",
        StepAuthority = "web_apis.step_authority": "Authority reachable",
        StepToken = "web_apis.step_token": "Token obtained",
        StepMesAccepted = "web_apis.step_mes_accepted": "MES accepted the token",
        StepMesUser = "web_apis.step_mes_user": "MES user resolved",
        StepSkipped = "web_apis.step_skipped": "not run: an earlier step failed",
        StepIssuer = "web_apis.step_issuer": "issuer {issuer}",
        StepServiceToken = "web_apis.step_service_token": "service-to-service definitions are for native background jobs; test them with mes-lookup",
        StepWrongAudience = "web_apis.step_wrong_audience": "the token is for {audiences}, but this definition's audience is \"{audience}\": add its scope to the portal's scopes in config.json",
        StepTokenFor = "web_apis.step_token_for": "for {audiences}, expires in {minutes} min",
        StepOpaqueToken = "web_apis.step_opaque_token": "an opaque token (not a JWT)",
        StepNoUser = "web_apis.step_no_user": "no user (a token without a user claim runs as the MES's Default Background User)",
        StepAccountSignedIn = "web_apis.step_account_signed_in": "the account signed in as {identity}",
        StepAnswered = "web_apis.step_answered": "GET {endpoint} answered",
        StepUserAccepted = "web_apis.step_user_accepted": "the MES accepted the token's user: {identity}",
        StepTokenValid = "web_apis.step_token_valid": "the token is valid for the MES",
        StepNotMesUser = "web_apis.step_not_mes_user": "{identity}: {message}. Ask the MES administrator to make this account an active MES user.",
        StepRefused401 = "web_apis.step_refused_401": "the MES refused the token (401): its trusted authority or audience differs from this definition's",
        StepNoAnswer = "web_apis.step_no_answer": "no answer from {address} ({reason}): MES down, wrong base address, or CORS does not allow this portal's origin",
        // Diagnostics.
        TokensInMemory = "diagnostics.tokens_in_memory": "Tokens are held in this page's memory only and are never shown, stored or logged.",
        RefreshTokenRenews = "diagnostics.refresh_token": "A refresh token renews the session.",
        NoRefreshToken = "diagnostics.no_refresh_token": "No refresh token was issued: when the access token expires, you sign in again (without a form while the AIM session lasts).",
        AccessTokenTitle = "diagnostics.access_token": "Access token (sent to the MES)",
        IdTokenTitle = "diagnostics.id_token": "ID token (who signed in)",
        NotJwt = "diagnostics.not_jwt": "Not a JWT: the authority issues opaque tokens, so there are no claims to show.",
        ClaimIdentity = "diagnostics.identity": "Identity",
        ClaimSubject = "diagnostics.subject": "Subject (sub)",
        ClaimIssuer = "diagnostics.issuer": "Issuer (iss)",
        ClaimAudience = "diagnostics.audience": "Audience (aud)",
        ClaimScopes = "diagnostics.scopes": "Scopes",
        ClaimClient = "diagnostics.client": "Client (client_id)",
        ClaimExpires = "diagnostics.expires": "Expires (exp)",
        ClaimIssued = "diagnostics.issued": "Issued (iat)",
        InMinutes = "diagnostics.in_minutes": "{time} (in {minutes} min)",
        MinutesAgo = "diagnostics.minutes_ago": "{time} ({minutes} min ago)",
    }
}

/// The language chosen at start: the words (a translation's, where it has them) and the locale
/// numbers and dates are formatted for.
struct Chosen {
    /// The BCP 47 tag `Intl` formats for (e.g. `de-CH`).
    locale: String,
    /// The translation, by key; empty for English.
    words: BTreeMap<String, String>,
}

static CHOSEN: OnceLock<Chosen> = OnceLock::new();

/// `word` in the chosen language (English until a language was chosen, and wherever a
/// translation lacks it).
pub fn w(word: impl Text) -> &'static str {
    CHOSEN
        .get()
        .and_then(|c| c.words.get(word.key()))
        .map_or(word.english(), String::as_str)
}

/// `word` with each `{name}` replaced by its value.
pub fn fill(word: impl Text, values: &[(&str, &str)]) -> String {
    fill_text(w(word), values)
}

/// One pass over `text`: a value is never read as a `{name}` itself.
fn fill_text(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').and_then(|close| {
            values
                .iter()
                .find(|(n, _)| *n == &after[..close])
                .map(|(_, v)| (close, v))
        }) {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `word` cut around `{name}`: the text before and after it, for a value shown in its own
/// element (`<code>`, `<strong>`).
pub fn around(word: impl Text, name: &str) -> (&'static str, &'static str) {
    let text = w(word);
    text.split_once(&format!("{{{name}}}")).unwrap_or((text, ""))
}

/// The locale numbers and dates are shown in (the browser's own until a language was chosen).
pub fn locale() -> &'static str {
    static BROWSER: OnceLock<String> = OnceLock::new();
    match CHOSEN.get() {
        Some(c) => &c.locale,
        None => BROWSER.get_or_init(|| {
            browser_languages()
                .into_iter()
                .next()
                .unwrap_or_else(|| "en".into())
        }),
    }
}

/// The language the page is in (`lang` of the document): the translation's, or `en`.
pub fn page_language() -> &'static str {
    match CHOSEN.get() {
        Some(c) if !c.words.is_empty() => c.locale.split('-').next().unwrap_or("en"),
        _ => "en",
    }
}

/// A count as the locale writes it (`12,345`; `12.345` in German).
pub fn count(n: usize) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        // One formatter, made again if the locale was chosen after it (as grid::format does).
        thread_local! {
            static FORMAT: std::cell::RefCell<Option<(&'static str, js_sys::Intl::NumberFormat)>> =
                const { std::cell::RefCell::new(None) };
        }
        FORMAT
            .with_borrow_mut(|cached| {
                let locale = locale();
                if cached.as_ref().is_none_or(|(made_for, _)| *made_for != locale) {
                    let format = js_sys::Intl::NumberFormat::new(
                        &js_sys::Array::of1(&locale.into()),
                        &js_sys::Object::new(),
                    );
                    *cached = Some((locale, format));
                }
                let (_, f) = cached.as_ref()?;
                f.format()
                    .call1(f, &(n as f64).into())
                    .ok()
                    .and_then(|s| s.as_string())
            })
            .unwrap_or_else(|| n.to_string())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    }
}

/// The language to use: the tag config.json forces, else the browser's first preference the
/// portal has words for (English, or one of `translations`). Returns the locale to format for
/// and the translation to load (`None`: English). With no match, English words and the
/// browser's first locale for formats.
pub fn pick(forced: Option<&str>, browser: &[String], translations: &[String]) -> (String, Option<String>) {
    let candidates: Vec<&str> = forced
        .into_iter()
        .chain(browser.iter().map(String::as_str))
        .collect();
    for tag in &candidates {
        let language = tag.split('-').next().unwrap_or_default().to_ascii_lowercase();
        if language == "en" {
            return ((*tag).to_owned(), None);
        }
        if translations.contains(&language) {
            return ((*tag).to_owned(), Some(language));
        }
    }
    (candidates.first().map_or("en", |t| t).to_owned(), None)
}

/// Reads a translation file: a JSON object from key to text (words it lacks stay English).
/// A `BTreeMap`, as config.json's maps are: the same decoding code serves both.
/// Anything else is refused whole.
pub fn parse_translation(text: &str) -> Result<BTreeMap<String, String>, String> {
    serde_json::from_str(text).map_err(|e| format!("is not an object of texts ({e})"))
}

/// The browser's preferred languages (`navigator.languages`), most preferred first.
pub fn browser_languages() -> Vec<String> {
    #[cfg(target_arch = "wasm32")]
    {
        let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
            return vec![];
        };
        let listed: Vec<String> = navigator
            .languages()
            .iter()
            .filter_map(|l| l.as_string())
            .collect();
        if listed.is_empty() {
            navigator.language().into_iter().collect()
        } else {
            listed
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        vec![]
    }
}

/// Chooses the language once (see [`pick`]), loads its translation from the portal's
/// `locales/` through `load` (a missing or broken file leaves English, with a warning that
/// names the file) and sets the page's `lang`. Later calls change nothing: words do not switch
/// language under a person's eyes.
pub async fn choose<F, Fut>(forced: Option<&str>, translations: &[String], load: F) -> Option<String>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<String, String>>,
{
    if CHOSEN.get().is_some() {
        return None;
    }
    let (locale, file) = pick(forced, &browser_languages(), translations);
    let mut warning = None;
    let words = match file {
        None => BTreeMap::new(),
        Some(language) => {
            let path = format!("locales/{language}.json");
            match load(path.clone()).await.and_then(|text| parse_translation(&text)) {
                Ok(words) => words,
                Err(why) => {
                    warning = Some(format!("{path} {why}; the portal shows English"));
                    BTreeMap::new()
                }
            }
        }
    };
    let _ = CHOSEN.set(Chosen { locale, words });
    #[cfg(target_arch = "wasm32")]
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        root.set_attribute("lang", page_language()).ok();
    }
    warning
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn names(text: &str) -> BTreeSet<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect()
    }

    /// Every shipped translation has every word, no stray key, and the same `{names}`.
    #[test]
    fn shipped_translations_are_whole() {
        for language in mes_client::SHIPPED_TRANSLATIONS {
            let path = format!("{}/locales/{language}.json", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).expect("shipped");
            let map: BTreeMap<String, String> = serde_json::from_str(&text).expect("an object of texts");
            let all: Vec<(&str, &str)> = [
                Word::ALL,
                GridWord::ALL,
                PageWord::ALL,
                FloorWord::ALL,
                RareWord::ALL,
                TraceWord::ALL,
            ]
            .concat();
            let keys: BTreeSet<&str> = all.iter().map(|(k, _)| *k).collect();
            assert_eq!(keys.len(), all.len(), "keys are unique");
            let missing: Vec<_> = keys.iter().filter(|k| !map.contains_key(**k)).collect();
            let stray: Vec<_> = map.keys().filter(|k| !keys.contains(k.as_str())).collect();
            assert!(
                missing.is_empty() && stray.is_empty(),
                "{path}: missing {missing:?}, not a word {stray:?}"
            );
            for (key, english) in all {
                assert_eq!(
                    names(&map[key]),
                    names(english),
                    "{path}: {key} must fill the same names"
                );
                assert!(!map[key].trim().is_empty(), "{path}: {key} is empty");
            }
        }
    }

    #[test]
    fn the_language_is_forced_or_the_browsers_first_known() {
        let browser = |tags: &[&str]| tags.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
        let de = ["de".to_owned()];
        assert_eq!(
            pick(None, &browser(&["de-CH", "en"]), &de),
            ("de-CH".into(), Some("de".into()))
        );
        assert_eq!(
            pick(None, &browser(&["fr-FR", "de"]), &de),
            ("de".into(), Some("de".into())),
            "French is not shipped"
        );
        assert_eq!(
            pick(None, &browser(&["en-GB", "de"]), &de),
            ("en-GB".into(), None)
        );
        assert_eq!(
            pick(None, &browser(&["fr-FR"]), &de),
            ("fr-FR".into(), None),
            "English words, French formats"
        );
        assert_eq!(
            pick(Some("de"), &browser(&["en-US"]), &de),
            ("de".into(), Some("de".into())),
            "config.json decides"
        );
        assert_eq!(pick(Some("en"), &browser(&["de-DE"]), &de), ("en".into(), None));
        assert_eq!(
            pick(None, &browser(&["DE-at"]), &de),
            ("DE-at".into(), Some("de".into())),
            "tags are caseless"
        );
        assert_eq!(pick(None, &[], &de), ("en".into(), None));
        assert_eq!(
            pick(None, &browser(&["de"]), &[]),
            ("de".into(), None),
            "no translation deployed"
        );
    }

    #[test]
    fn translations_fill_and_fall_back() {
        let words =
            parse_translation(r#"{"grid.rows": "{rows} Zeilen", "no.such.key": "x"}"#).expect("an object");
        let at = |key: &str| words.get(key).map(String::as_str);
        assert_eq!(
            (at(GridWord::RowsTotal.key()), at(Word::SignIn.key())),
            (Some("{rows} Zeilen"), None)
        );
        assert!(parse_translation(r#"["Anmelden"]"#).is_err());
        assert!(parse_translation(r#"{"action.sign_in": 3}"#).is_err());
        assert!(parse_translation("<html>").is_err());
        assert_eq!(
            fill(GridWord::RowsMatch, &[("shown", "3"), ("rows", "10")]),
            "3 of 10 rows match"
        );
        assert_eq!(
            fill_text("{a} and {b}", &[("a", "{b}"), ("b", "B")]),
            "{b} and B",
            "a value is not filled again"
        );
        assert_eq!(fill_text("{a} {unknown} {", &[("a", "x")]), "x {unknown} {");
        assert_eq!(
            around(Word::NoSuchLookupText, "name"),
            ("config.json has no lookup named ", ".")
        );
        assert_eq!(count(1_234_567), "1,234,567");
    }
}
