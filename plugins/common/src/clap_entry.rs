//! Oxide's CLAP entry point: nice-plug's plugin factory plus a preset-discovery factory
//! and the plugin's preset-load extension, so a host's browser (Bitwig, Reaper) lists
//! the factory and user presets and loads one by itself.
//!
//! nice-plug 0.4.2's `nice_export_clap!` exports a `clap_entry` that offers only the
//! plugin factory, and a library can have one `clap_entry`, so [`oxide_export_clap!`]
//! replaces it. What it changes is small:
//!
//! - **Plugin factory**: as nice-plug's (its public `PluginDescriptor` and
//!   `Wrapper::new`), except that the `clap_plugin` handed to the host is our own copy
//!   of the wrapper's ([`OxidePlugin`]): the same functions and the same `plugin_data`
//!   (a pointer to nice-plug's `Wrapper`), with `get_extension` and `destroy` replaced.
//!   This is sound because every nice-plug callback finds its wrapper only through
//!   `(*plugin).plugin_data` and never compares or hands out its own `clap_plugin`
//!   pointer (checked in nice-plug 0.4.2, which the workspace pins exactly).
//!   `get_extension` answers `clap.preset-load` itself and delegates everything else to
//!   the wrapper's; `destroy` destroys the wrapper, then our copy.
//! - **Preset-discovery factory**: one provider per plugin. It declares the factory
//!   presets as a location inside the plugin (`CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN`,
//!   each preset's load key is its file name) and, if the user folder exists, that
//!   folder as a file location of `.toml` files ([`crate::user_presets`]). Each preset
//!   is reported with its name, description, category (as a feature) and the plugin id.
//! - **Preset load**: the preset is parsed and applied to a scratch copy of the
//!   parameters, and the resulting values go in through nice-plug's own state path
//!   (`Wrapper::get_state_object` / `set_state_object_from_gui`), which defers the change
//!   to the end of a process call when the plugin is processing and tells the host to
//!   rescan the values. Fields the project saves beside the parameters (the editor
//!   size, the A/B slots) are kept. The host's `clap.preset-load` extension, if it has
//!   one, hears `loaded` or `on_error`.
//!
//! Nothing here runs on the audio thread.

use std::ffi::{c_char, c_void, CStr, CString};
use std::marker::PhantomData;
use std::path::Path;
use std::sync::{Arc, OnceLock};

pub use clap_sys::entry::clap_plugin_entry;
use clap_sys::ext::preset_load::{
    clap_host_preset_load, clap_plugin_preset_load, CLAP_EXT_PRESET_LOAD,
    CLAP_EXT_PRESET_LOAD_COMPAT,
};
use clap_sys::factory::plugin_factory::{clap_plugin_factory, CLAP_PLUGIN_FACTORY_ID};
use clap_sys::factory::preset_discovery::{
    clap_preset_discovery_factory, clap_preset_discovery_filetype, clap_preset_discovery_indexer,
    clap_preset_discovery_location, clap_preset_discovery_location_kind,
    clap_preset_discovery_metadata_receiver, clap_preset_discovery_provider,
    clap_preset_discovery_provider_descriptor, CLAP_PRESET_DISCOVERY_FACTORY_ID,
    CLAP_PRESET_DISCOVERY_FACTORY_ID_COMPAT, CLAP_PRESET_DISCOVERY_IS_FACTORY_CONTENT,
    CLAP_PRESET_DISCOVERY_IS_USER_CONTENT, CLAP_PRESET_DISCOVERY_LOCATION_FILE,
    CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN,
};
use clap_sys::host::clap_host;
use clap_sys::plugin::{clap_plugin, clap_plugin_descriptor};
use clap_sys::universal_plugin_id::clap_universal_plugin_id;
use clap_sys::version::CLAP_VERSION;
use nice_plug::prelude::{ClapPlugin, Params, Plugin};
use nice_plug::wrapper::clap::{PluginDescriptor, Wrapper};

use crate::param_access;
use crate::presets::{self, Preset};
use crate::user_presets;

/// What the entry point needs to know beyond nice-plug's `ClapPlugin`.
pub trait ClapPresets: ClapPlugin {
    /// The plugin id preset files carry (`presets::CHANNEL_STRIP`, …).
    const PRESET_PLUGIN: &'static str;
}

/// Exports `clap_entry` for `$plugin` (a [`ClapPresets`]) in place of nice-plug's
/// `nice_export_clap!`. See the module documentation.
#[macro_export]
macro_rules! oxide_export_clap {
    ($plugin:ty) => {
        #[doc(hidden)]
        mod oxide_clap_entry {
            use super::*;

            pub static PLUGIN_FACTORY: $crate::clap_entry::PluginFactory<$plugin> =
                $crate::clap_entry::PluginFactory::new();
            pub static PRESET_FACTORY: $crate::clap_entry::DiscoveryFactory<$plugin> =
                $crate::clap_entry::DiscoveryFactory::new();

            pub extern "C" fn get_factory(
                factory_id: *const ::std::ffi::c_char,
            ) -> *const ::std::ffi::c_void {
                // SAFETY: the host passes a C string or null, which `get_factory` checks.
                unsafe {
                    $crate::clap_entry::get_factory(factory_id, &PLUGIN_FACTORY, &PRESET_FACTORY)
                }
            }
        }

        /// The CLAP plugin's entry point.
        #[unsafe(no_mangle)]
        #[used]
        pub static clap_entry: $crate::clap_entry::clap_plugin_entry =
            $crate::clap_entry::entry::<$plugin>(oxide_clap_entry::get_factory);
    };
}

/// The entry point's struct, with `get_factory` generated by [`oxide_export_clap!`].
pub const fn entry<P: ClapPresets>(
    get_factory: extern "C" fn(*const c_char) -> *const c_void,
) -> clap_plugin_entry {
    clap_plugin_entry {
        clap_version: CLAP_VERSION,
        init: Some(init::<P>),
        deinit: Some(deinit),
        get_factory: Some(get_factory),
    }
}

extern "C" fn init<P: ClapPresets>(_plugin_path: *const c_char) -> bool {
    nice_plug::wrapper::setup_logger::<P>();
    true
}

extern "C" fn deinit() {}

/// The factory the host asks for by id, or null.
///
/// # Safety
/// `factory_id` is null or a C string.
pub unsafe fn get_factory<P: ClapPresets>(
    factory_id: *const c_char,
    plugins: &'static PluginFactory<P>,
    presets: &'static DiscoveryFactory<P>,
) -> *const c_void {
    if factory_id.is_null() {
        return std::ptr::null();
    }
    // SAFETY: checked non-null; the host passes a C string.
    let id = unsafe { CStr::from_ptr(factory_id) };
    if id == CLAP_PLUGIN_FACTORY_ID {
        plugins as *const PluginFactory<P> as *const c_void
    } else if id == CLAP_PRESET_DISCOVERY_FACTORY_ID
        || id == CLAP_PRESET_DISCOVERY_FACTORY_ID_COMPAT
    {
        presets as *const DiscoveryFactory<P> as *const c_void
    } else {
        std::ptr::null()
    }
}

/// The plugin factory: the CLAP struct first, so the host's pointer to it is a pointer
/// to this.
#[repr(C)]
pub struct PluginFactory<P> {
    raw: clap_plugin_factory,
    descriptor: OnceLock<PluginDescriptor>,
    plugin: PhantomData<fn() -> P>,
}

impl<P: ClapPresets> PluginFactory<P> {
    pub const fn new() -> Self {
        Self {
            raw: clap_plugin_factory {
                get_plugin_count: Some(Self::get_plugin_count),
                get_plugin_descriptor: Some(Self::get_plugin_descriptor),
                create_plugin: Some(Self::create_plugin),
            },
            descriptor: OnceLock::new(),
            plugin: PhantomData,
        }
    }

    fn descriptor(&self) -> &PluginDescriptor {
        self.descriptor
            .get_or_init(PluginDescriptor::for_plugin::<P>)
    }

    /// # Safety
    /// `factory` is the `raw` field of a live `PluginFactory<P>` (the host got it from
    /// `get_factory`).
    unsafe fn this<'a>(factory: *const clap_plugin_factory) -> &'a Self {
        // SAFETY: `raw` is the first field of this `repr(C)` struct.
        unsafe { &*(factory as *const Self) }
    }

    unsafe extern "C" fn get_plugin_count(_factory: *const clap_plugin_factory) -> u32 {
        1
    }

    unsafe extern "C" fn get_plugin_descriptor(
        factory: *const clap_plugin_factory,
        index: u32,
    ) -> *const clap_plugin_descriptor {
        if factory.is_null() || index != 0 {
            return std::ptr::null();
        }
        // SAFETY: see `this`.
        unsafe { Self::this(factory) }
            .descriptor()
            .clap_plugin_descriptor()
    }

    unsafe extern "C" fn create_plugin(
        factory: *const clap_plugin_factory,
        host: *const clap_host,
        plugin_id: *const c_char,
    ) -> *const clap_plugin {
        if factory.is_null() || host.is_null() || plugin_id.is_null() {
            return std::ptr::null();
        }
        // SAFETY: see `this`; the host passes a C string.
        let (this, id) = unsafe { (Self::this(factory), CStr::from_ptr(plugin_id)) };
        if id != this.descriptor().clap_id() {
            return std::ptr::null();
        }
        // SAFETY: `host` is the host's live `clap_host`, as nice-plug's own factory
        // passes it. The `Arc` is turned back into one and dropped by the wrapper's
        // `destroy`, which `OxidePlugin::destroy` calls.
        let inner = unsafe {
            (*Arc::into_raw(Wrapper::<P>::new(host)))
                .clap_plugin
                .as_ptr()
        };
        // SAFETY: `inner` points into the wrapper just leaked, alive until `destroy`.
        let mut raw = unsafe { *inner };
        raw.get_extension = Some(OxidePlugin::<P>::get_extension);
        raw.destroy = Some(OxidePlugin::<P>::destroy);
        let plugin = Box::new(OxidePlugin::<P> {
            raw,
            inner,
            host,
            preset_load: clap_plugin_preset_load {
                from_location: Some(OxidePlugin::<P>::from_location),
            },
            plugin: PhantomData,
        });
        // Freed in `OxidePlugin::destroy`.
        &Box::leak(plugin).raw
    }
}

impl<P: ClapPresets> Default for PluginFactory<P> {
    fn default() -> Self {
        Self::new()
    }
}

/// The `clap_plugin` the host holds: a copy of nice-plug's with two functions replaced
/// (see the module documentation), plus what the preset-load extension needs.
#[repr(C)]
pub struct OxidePlugin<P> {
    raw: clap_plugin,
    /// nice-plug's own `clap_plugin`, inside its `Wrapper<P>`.
    inner: *const clap_plugin,
    host: *const clap_host,
    preset_load: clap_plugin_preset_load,
    plugin: PhantomData<fn() -> P>,
}

impl<P: ClapPresets> OxidePlugin<P> {
    /// # Safety
    /// `plugin` is the `raw` field of a live `OxidePlugin<P>` (as the host got it from
    /// `create_plugin`).
    unsafe fn this<'a>(plugin: *const clap_plugin) -> &'a Self {
        // SAFETY: `raw` is the first field of this `repr(C)` struct.
        unsafe { &*(plugin as *const Self) }
    }

    unsafe extern "C" fn get_extension(
        plugin: *const clap_plugin,
        id: *const c_char,
    ) -> *const c_void {
        if plugin.is_null() || id.is_null() {
            return std::ptr::null();
        }
        // SAFETY: see `this`; the host passes a C string.
        let (this, ext) = unsafe { (Self::this(plugin), CStr::from_ptr(id)) };
        if ext == CLAP_EXT_PRESET_LOAD || ext == CLAP_EXT_PRESET_LOAD_COMPAT {
            return &this.preset_load as *const clap_plugin_preset_load as *const c_void;
        }
        // SAFETY: the wrapper's `get_extension`, given its own live plugin.
        unsafe {
            match (*this.inner).get_extension {
                Some(get) => get(this.inner, id),
                None => std::ptr::null(),
            }
        }
    }

    unsafe extern "C" fn destroy(plugin: *const clap_plugin) {
        if plugin.is_null() {
            return;
        }
        // SAFETY: `plugin` was leaked from a `Box<Self>` in `create_plugin`; the host
        // calls `destroy` once and never uses the pointer after it.
        let this = unsafe { Box::from_raw(plugin as *mut Self) };
        // SAFETY: the wrapper's own `destroy`, given its own plugin, once.
        unsafe {
            if let Some(destroy) = (*this.inner).destroy {
                destroy(this.inner);
            }
        }
        drop(this);
    }

    fn wrapper(&self) -> &Wrapper<P> {
        // SAFETY: `plugin_data` is nice-plug's pointer to its live `Wrapper<P>`.
        unsafe { &*(self.raw.plugin_data as *const Wrapper<P>) }
    }

    unsafe extern "C" fn from_location(
        plugin: *const clap_plugin,
        location_kind: clap_preset_discovery_location_kind,
        location: *const c_char,
        load_key: *const c_char,
    ) -> bool {
        if plugin.is_null() {
            return false;
        }
        // SAFETY: see `this`.
        let this = unsafe { Self::this(plugin) };
        // SAFETY: the host passes C strings or null.
        let location_text = unsafe { optional_str(location) };
        let key_text = unsafe { optional_str(load_key) };
        let result = find_preset::<P>(location_kind, location_text, key_text)
            .and_then(|preset| preset_state_values::<P>(&preset));
        // SAFETY (both host calls): `host` is the host's live `clap_host`; the
        // extension pointer it returns is its `clap_host_preset_load` or null.
        let host_ext = unsafe {
            (*this.host)
                .get_extension
                .map(|get| get(this.host, CLAP_EXT_PRESET_LOAD.as_ptr()))
                .filter(|p| !p.is_null())
                .map(|p| &*(p as *const clap_host_preset_load))
        };
        match result {
            Ok(values) => {
                let wrapper = this.wrapper();
                let mut state = wrapper.get_state_object();
                state.params = values;
                wrapper.set_state_object_from_gui(state);
                if let Some(loaded) = host_ext.and_then(|e| e.loaded) {
                    // SAFETY: see above; the strings are the host's own.
                    unsafe { loaded(this.host, location_kind, location, load_key) };
                }
                true
            }
            Err(message) => {
                if let Some(on_error) = host_ext.and_then(|e| e.on_error) {
                    let message = c_string(&message);
                    // SAFETY: see above.
                    unsafe {
                        on_error(
                            this.host,
                            location_kind,
                            location,
                            load_key,
                            0,
                            message.as_ptr(),
                        )
                    };
                }
                false
            }
        }
    }
}

/// A C string as `&str`; `None` for null or text that is not UTF-8.
///
/// # Safety
/// `ptr` is null or a C string that lives for `'a`.
unsafe fn optional_str<'a>(ptr: *const c_char) -> Option<&'a str> {
    if ptr.is_null() {
        None
    } else {
        // SAFETY: see the function's contract.
        unsafe { CStr::from_ptr(ptr) }.to_str().ok()
    }
}

/// `text` as a C string (an interior NUL, impossible in our texts, becomes a space).
fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', " ")).unwrap_or_default()
}

/// A fresh set of `P`'s parameters to check and apply presets on.
fn scratch_params<P: Plugin>() -> Arc<dyn Params> {
    P::default().params()
}

/// The preset a location and load key name, parsed and checked.
fn find_preset<P: ClapPresets>(
    kind: clap_preset_discovery_location_kind,
    location: Option<&str>,
    load_key: Option<&str>,
) -> Result<Preset, String> {
    let params = scratch_params::<P>();
    match kind {
        CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN => {
            let key = load_key.ok_or("a factory preset needs its load key")?;
            let file = presets::factory_files(P::PRESET_PLUGIN)
                .iter()
                .find(|f| f.file_name == key)
                .ok_or_else(|| format!("no factory preset has the load key '{key}'"))?;
            presets::parse(file.text, file.file_name, P::PRESET_PLUGIN, &*params)
                .map_err(|e| e.to_string())
        }
        CLAP_PRESET_DISCOVERY_LOCATION_FILE => {
            let path = location.ok_or("a file location needs a path")?;
            presets::load_file(Path::new(path), P::PRESET_PLUGIN, &*params)
                .map_err(|e| e.to_string())
        }
        other => Err(format!("unknown preset location kind {other}")),
    }
}

/// The state values (as nice-plug saves them) the plugin has after loading `preset`.
fn preset_state_values<P: ClapPresets>(
    preset: &Preset,
) -> Result<std::collections::BTreeMap<String, nice_plug::plugin::ParamValue>, String> {
    let params = scratch_params::<P>();
    preset.apply(&*params).map_err(|e| e.to_string())?;
    Ok(param_access::state_values(&*params))
}

/// The preset-discovery factory, with its one provider's descriptor.
#[repr(C)]
pub struct DiscoveryFactory<P> {
    raw: clap_preset_discovery_factory,
    provider: OnceLock<ProviderStrings>,
    plugin: PhantomData<fn() -> P>,
}

/// The provider descriptor and the texts it points to.
struct ProviderStrings {
    id: CString,
    /// Kept for `descriptor.name` and `descriptor.vendor`, which point into them.
    _name: CString,
    _vendor: CString,
    plugin_id: CString,
    descriptor: clap_preset_discovery_provider_descriptor,
}

// SAFETY: the descriptor's pointers point into the `CString`s beside it, which are never
// changed after construction; sharing them between threads only reads them.
unsafe impl Send for ProviderStrings {}
unsafe impl Sync for ProviderStrings {}

impl ProviderStrings {
    fn for_plugin<P: ClapPresets>() -> Self {
        let id = c_string(&format!("{}.presets", P::CLAP_ID));
        let name = c_string(&format!("{} presets", P::NAME));
        let vendor = c_string(P::VENDOR);
        let descriptor = clap_preset_discovery_provider_descriptor {
            clap_version: CLAP_VERSION,
            id: id.as_ptr(),
            name: name.as_ptr(),
            vendor: vendor.as_ptr(),
        };
        Self {
            plugin_id: c_string(P::CLAP_ID),
            id,
            _name: name,
            _vendor: vendor,
            descriptor,
        }
    }
}

impl<P: ClapPresets> DiscoveryFactory<P> {
    pub const fn new() -> Self {
        Self {
            raw: clap_preset_discovery_factory {
                count: Some(Self::count),
                get_descriptor: Some(Self::get_descriptor),
                create: Some(Self::create),
            },
            provider: OnceLock::new(),
            plugin: PhantomData,
        }
    }

    fn strings(&'static self) -> &'static ProviderStrings {
        self.provider.get_or_init(ProviderStrings::for_plugin::<P>)
    }

    /// # Safety
    /// `factory` is the `raw` field of a `static DiscoveryFactory<P>`.
    unsafe fn this(factory: *const clap_preset_discovery_factory) -> &'static Self {
        // SAFETY: `raw` is the first field of this `repr(C)` struct, which is a static.
        unsafe { &*(factory as *const Self) }
    }

    unsafe extern "C" fn count(_factory: *const clap_preset_discovery_factory) -> u32 {
        1
    }

    unsafe extern "C" fn get_descriptor(
        factory: *const clap_preset_discovery_factory,
        index: u32,
    ) -> *const clap_preset_discovery_provider_descriptor {
        if factory.is_null() || index != 0 {
            return std::ptr::null();
        }
        // SAFETY: see `this`.
        &unsafe { Self::this(factory) }.strings().descriptor
    }

    unsafe extern "C" fn create(
        factory: *const clap_preset_discovery_factory,
        indexer: *const clap_preset_discovery_indexer,
        provider_id: *const c_char,
    ) -> *const clap_preset_discovery_provider {
        if factory.is_null() || indexer.is_null() || provider_id.is_null() {
            return std::ptr::null();
        }
        // SAFETY: see `this`; the host passes a C string.
        let (strings, id) = unsafe { (Self::this(factory).strings(), CStr::from_ptr(provider_id)) };
        if id != strings.id.as_c_str() {
            return std::ptr::null();
        }
        let provider = Box::new(Provider::<P> {
            raw: clap_preset_discovery_provider {
                desc: &strings.descriptor,
                provider_data: std::ptr::null_mut(),
                init: Some(Provider::<P>::init),
                destroy: Some(Provider::<P>::destroy),
                get_metadata: Some(Provider::<P>::get_metadata),
                get_extension: Some(Provider::<P>::get_extension),
            },
            indexer,
            strings,
            user_dir: None,
            plugin: PhantomData,
        });
        // Freed in `Provider::destroy`.
        &Box::leak(provider).raw
    }
}

impl<P: ClapPresets> Default for DiscoveryFactory<P> {
    fn default() -> Self {
        Self::new()
    }
}

/// One preset provider, made for one indexer.
#[repr(C)]
struct Provider<P> {
    raw: clap_preset_discovery_provider,
    indexer: *const clap_preset_discovery_indexer,
    strings: &'static ProviderStrings,
    /// The user folder's path as declared in `init`.
    user_dir: Option<CString>,
    plugin: PhantomData<fn() -> P>,
}

const FILETYPE_NAME: &CStr = c"Oxide preset";
const FILETYPE_DESCRIPTION: &CStr = c"An Oxide preset (TOML: parameter ids with plain values)";
const FILETYPE_EXTENSION: &CStr = c"toml";
const FACTORY_LOCATION: &CStr = c"Factory presets";
const USER_LOCATION: &CStr = c"User presets";
const CREATOR: &CStr = c"Oxide";
const ABI_CLAP: &CStr = c"clap";

impl<P: ClapPresets> Provider<P> {
    /// # Safety
    /// `provider` is the `raw` field of a live `Provider<P>`.
    unsafe fn this<'a>(provider: *const clap_preset_discovery_provider) -> &'a mut Self {
        // SAFETY: `raw` is the first field; the host calls a provider from one thread
        // at a time, so no other reference to it is in use.
        unsafe { &mut *(provider as *mut Self) }
    }

    unsafe extern "C" fn init(provider: *const clap_preset_discovery_provider) -> bool {
        if provider.is_null() {
            return false;
        }
        // SAFETY: see `this`.
        let this = unsafe { Self::this(provider) };
        // SAFETY: the indexer given to `create`, alive while its provider is.
        let indexer = unsafe { &*this.indexer };
        let filetype = clap_preset_discovery_filetype {
            name: FILETYPE_NAME.as_ptr(),
            description: FILETYPE_DESCRIPTION.as_ptr(),
            file_extension: FILETYPE_EXTENSION.as_ptr(),
        };
        let factory = clap_preset_discovery_location {
            flags: CLAP_PRESET_DISCOVERY_IS_FACTORY_CONTENT,
            name: FACTORY_LOCATION.as_ptr(),
            kind: CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN,
            location: std::ptr::null(),
        };
        // A declared folder must exist (a host crawls it), so the user folder is
        // declared only once the user has saved a preset into it.
        this.user_dir = user_presets::user_dir(P::PRESET_PLUGIN)
            .filter(|dir| dir.is_dir())
            .and_then(|dir| std::path::absolute(dir).ok())
            .map(|dir| c_string(&dir.display().to_string()));
        // SAFETY: the indexer's functions, given itself and structs that live for the
        // call; a `false` (a host not interested in a kind) is not an error here.
        unsafe {
            if let Some(declare) = indexer.declare_filetype {
                declare(this.indexer, &filetype);
            }
            if let Some(declare) = indexer.declare_location {
                declare(this.indexer, &factory);
                if let Some(dir) = &this.user_dir {
                    let user = clap_preset_discovery_location {
                        flags: CLAP_PRESET_DISCOVERY_IS_USER_CONTENT,
                        name: USER_LOCATION.as_ptr(),
                        kind: CLAP_PRESET_DISCOVERY_LOCATION_FILE,
                        location: dir.as_ptr(),
                    };
                    declare(this.indexer, &user);
                }
            }
        }
        true
    }

    unsafe extern "C" fn destroy(provider: *const clap_preset_discovery_provider) {
        if !provider.is_null() {
            // SAFETY: leaked from a `Box<Self>` in `create`; destroyed once.
            drop(unsafe { Box::from_raw(provider as *mut Self) });
        }
    }

    unsafe extern "C" fn get_extension(
        _provider: *const clap_preset_discovery_provider,
        _id: *const c_char,
    ) -> *const c_void {
        std::ptr::null()
    }

    unsafe extern "C" fn get_metadata(
        provider: *const clap_preset_discovery_provider,
        location_kind: clap_preset_discovery_location_kind,
        location: *const c_char,
        receiver: *const clap_preset_discovery_metadata_receiver,
    ) -> bool {
        if provider.is_null() || receiver.is_null() {
            return false;
        }
        // SAFETY: see `this`; `receiver` is the host's, alive for this call.
        let (this, receiver) = unsafe { (Self::this(provider), &*receiver) };
        let params = scratch_params::<P>();
        match location_kind {
            CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN => {
                for file in presets::factory_files(P::PRESET_PLUGIN) {
                    // The factory presets are checked by the tests; one that failed here
                    // would be skipped rather than hide the others.
                    let Ok(preset) =
                        presets::parse(file.text, file.file_name, P::PRESET_PLUGIN, &*params)
                    else {
                        continue;
                    };
                    let key = c_string(file.file_name);
                    // SAFETY: the receiver's functions with strings alive for the call.
                    let more = unsafe {
                        this.report(
                            receiver,
                            &preset,
                            key.as_ptr(),
                            CLAP_PRESET_DISCOVERY_IS_FACTORY_CONTENT,
                        )
                    };
                    if !more {
                        break;
                    }
                }
                true
            }
            CLAP_PRESET_DISCOVERY_LOCATION_FILE => {
                // SAFETY: the host passes a C string or null.
                let Some(path) = (unsafe { optional_str(location) }) else {
                    return false;
                };
                match presets::load_file(Path::new(path), P::PRESET_PLUGIN, &*params) {
                    Ok(preset) => {
                        // SAFETY: as above.
                        unsafe {
                            this.report(
                                receiver,
                                &preset,
                                std::ptr::null(),
                                CLAP_PRESET_DISCOVERY_IS_USER_CONTENT,
                            )
                        };
                    }
                    Err(e) => {
                        // A bad user file is the host's to show; the crawl goes on.
                        if let Some(on_error) = receiver.on_error {
                            let message = c_string(&e.to_string());
                            // SAFETY: as above.
                            unsafe { on_error(receiver, 0, message.as_ptr()) };
                        }
                    }
                }
                true
            }
            _ => false,
        }
    }

    /// Reports one preset to the receiver; `false` when the receiver wants no more.
    ///
    /// # Safety
    /// `receiver` is the host's live receiver; `load_key` is null or a C string alive
    /// for the call.
    unsafe fn report(
        &self,
        receiver: &clap_preset_discovery_metadata_receiver,
        preset: &Preset,
        load_key: *const c_char,
        flags: u32,
    ) -> bool {
        let name = c_string(&preset.name);
        let description = c_string(&preset.description);
        let category = c_string(&preset.category);
        let plugin_id = clap_universal_plugin_id {
            abi: ABI_CLAP.as_ptr(),
            id: self.strings.plugin_id.as_ptr(),
        };
        // SAFETY: the receiver's functions, given itself and strings alive for the call.
        unsafe {
            let Some(begin) = receiver.begin_preset else {
                return false;
            };
            if !begin(receiver, name.as_ptr(), load_key) {
                return false;
            }
            if let Some(add) = receiver.add_plugin_id {
                add(receiver, &plugin_id);
            }
            if let Some(set) = receiver.set_flags {
                set(receiver, flags);
            }
            if let Some(add) = receiver.add_creator {
                add(receiver, CREATOR.as_ptr());
            }
            if let Some(set) = receiver.set_description {
                set(receiver, description.as_ptr());
            }
            if let Some(add) = receiver.add_feature {
                add(receiver, category.as_ptr());
            }
        }
        true
    }
}
