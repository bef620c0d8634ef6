//! The built `.vst3` binaries, loaded in-process through their exported factory, in the
//! VST3 call sequence that lost a parameter value on save (issue 18): start processing,
//! set Output Gain to −6 dB with `setParamNormalized`, save with `getState` before any
//! `process` call, reload into a new instance, read −6 dB back.
//!
//! nice-plug's wrapper ignores `setParamNormalized` while processing (the host is to
//! send the value through `process` too), so without Oxide's VST3 export the saved state
//! held 0 dB.

use std::ffi::c_void;

use nice_plug::plugin::ParamValue as StateValue;
use nice_plug::prelude::PluginState;
use nice_plug::wrapper::vst3::vst3::Steinberg::Vst::{
    IAudioProcessor, IAudioProcessorTrait, IComponent, IComponentTrait, IEditController,
    IEditControllerTrait, ProcessSetup,
};
use nice_plug::wrapper::vst3::vst3::Steinberg::{
    kResultOk, IPluginBaseTrait, IPluginFactory, IPluginFactoryTrait, PClassInfo,
};
use nice_plug::wrapper::vst3::vst3::{ComPtr, ComWrapper, Interface};
use oxide_host_tests::Plugin;
use oxide_plugin_common::param_access::normalized_for;
use oxide_plugin_common::vst3_state::{vst3_param_id, MemoryStream};

/// The loaded binary and its plugin factory (the library outlives the factory).
struct Loaded {
    factory: ComPtr<IPluginFactory>,
    _library: libloading::Library,
}

fn load(plugin: Plugin) -> Loaded {
    let bin = plugin
        .vst3_path()
        .join("Contents")
        .join(if cfg!(target_arch = "aarch64") {
            "aarch64-linux"
        } else {
            "x86_64-linux"
        })
        .join(format!("{}.so", plugin.bundle_name()));
    // SAFETY: our own plugin binary; its initialisers only set up nice-plug's statics.
    let library = unsafe { libloading::Library::new(&bin) }
        .unwrap_or_else(|e| panic!("load {}: {e}", bin.display()));
    // SAFETY: the VST3 entry point's signature.
    let factory = unsafe {
        let entry: libloading::Symbol<extern "system" fn() -> *mut c_void> =
            library.get(b"GetPluginFactory").expect("GetPluginFactory");
        ComPtr::from_raw(entry() as *mut IPluginFactory).expect("a factory")
    };
    Loaded {
        factory,
        _library: library,
    }
}

/// One plugin instance's three faces.
struct Instance {
    component: ComPtr<IComponent>,
    processor: ComPtr<IAudioProcessor>,
    controller: ComPtr<IEditController>,
}

fn instance(loaded: &Loaded) -> Instance {
    // SAFETY: VST3 calls with valid out-pointers, on objects the factory made.
    unsafe {
        let mut info: PClassInfo = std::mem::zeroed();
        assert_eq!(loaded.factory.getClassInfo(0, &mut info), kResultOk);
        let mut obj: *mut c_void = std::ptr::null_mut();
        let result = loaded.factory.createInstance(
            info.cid.as_ptr(),
            IComponent::IID.as_ptr() as *const i8,
            &mut obj,
        );
        assert_eq!(result, kResultOk);
        let component = ComPtr::from_raw(obj as *mut IComponent).expect("an IComponent");
        assert_eq!(component.initialize(std::ptr::null_mut()), kResultOk);
        let processor = component
            .cast::<IAudioProcessor>()
            .expect("IAudioProcessor");
        let controller = component
            .cast::<IEditController>()
            .expect("IEditController");
        Instance {
            component,
            processor,
            controller,
        }
    }
}

/// Sets up 48 kHz, 512-frame real-time processing and starts it.
fn start_processing(instance: &Instance) {
    let mut setup = ProcessSetup {
        processMode: 0,
        symbolicSampleSize: 0,
        maxSamplesPerBlock: 512,
        sampleRate: 48_000.0,
    };
    // SAFETY: VST3 calls with a valid setup.
    unsafe {
        assert_eq!(instance.processor.setupProcessing(&mut setup), kResultOk);
        assert_eq!(instance.component.setActive(1), kResultOk);
        assert_eq!(instance.processor.setProcessing(1), kResultOk);
    }
}

fn get_state(instance: &Instance) -> Vec<u8> {
    let stream = ComWrapper::new(MemoryStream::default());
    let ptr = stream.to_com_ptr().expect("an IBStream");
    // SAFETY: a live stream.
    assert_eq!(
        unsafe { instance.component.getState(ptr.as_ptr()) },
        kResultOk
    );
    stream.bytes()
}

fn saved_value(state: &[u8], id: &str) -> StateValue {
    let state: PluginState = serde_json::from_slice(state).expect("nice-plug's JSON state");
    state
        .params
        .get(id)
        .cloned()
        .expect("the parameter in the state")
}

#[test]
fn a_value_set_while_processing_is_saved_and_reloads() {
    for plugin in Plugin::ALL {
        let name = plugin.display_name();
        let target = match plugin {
            Plugin::ChannelStrip => {
                normalized_for(&channel_strip::StripParams::default(), "out_gain", -6.0)
            }
            Plugin::MasteringChain => {
                normalized_for(&mastering_chain::MasterParams::default(), "out_gain", -6.0)
            }
        }
        .unwrap() as f64;
        let out_gain = vst3_param_id("out_gain");
        let loaded = load(plugin);
        let first = instance(&loaded);
        start_processing(&first);
        // SAFETY: VST3 calls on a live instance.
        unsafe {
            let before = first.controller.getParamNormalized(out_gain);
            assert!((before - target).abs() > 0.01, "{name}: already at -6 dB");
            assert_eq!(
                first.controller.setParamNormalized(out_gain, target),
                kResultOk
            );
            // The host reads back what it set.
            assert_eq!(first.controller.getParamNormalized(out_gain), target);
        }
        let state = get_state(&first);
        // −6 dB within f32 rounding of the normalized value's mapping back to dB.
        match saved_value(&state, "out_gain") {
            StateValue::F32(db) => assert!((db + 6.0).abs() < 1e-3, "{name}: saved {db} dB"),
            other => panic!("{name}: out_gain saved as {other:?}"),
        }

        // Reload into a fresh instance, as a host reopening the project does.
        let second = instance(&loaded);
        let stream = ComWrapper::new(MemoryStream::with_bytes(state));
        let ptr = stream.to_com_ptr().expect("an IBStream");
        // SAFETY: VST3 calls on a live instance with a live stream.
        unsafe {
            assert_eq!(second.component.setState(ptr.as_ptr()), kResultOk);
            let reloaded = second.controller.getParamNormalized(out_gain);
            // The normalized value survives plain-dB storage to f32 precision.
            assert!(
                (reloaded - target).abs() < 1e-5,
                "{name}: reloaded {reloaded}"
            );
        }

        // Processing stops: the value reaches the plugin itself.
        // SAFETY: VST3 calls on a live instance.
        unsafe {
            assert_eq!(first.processor.setProcessing(0), kResultOk);
            assert!((first.controller.getParamNormalized(out_gain) - target).abs() < 1e-6);
            assert_eq!(first.component.setActive(0), kResultOk);
        }
        drop((first, second));
    }
}
