// agent/opcua/collect.js - the agent's OPC UA collector (docs/agent.md).
//
//   node collect.js --endpoint opc.tcp://HOST:PORT [--folder NAME]
//
// Run by `otcm agent` like any command collector: it writes every file of
// the controller's FileDirectoryType folder NAME under Objects (the whole
// Objects folder when NAME is empty), recursively, into $OTCM_OUT, reading
// each FileType object through its standard methods (Open for reading,
// Read in chunks, Close), and the device identity into $OTCM_IDENTITY:
// manufacturer, model and firmware revision from the server's BuildInfo,
// overridden by a DI DeviceSet device's Manufacturer, Model, SerialNumber
// and SoftwareRevision where the server offers one.  Exit status 0 when
// every file was read; any failure is printed on stderr with status 1.
"use strict";

const fs = require("fs");
const path = require("path");
const {
    OPCUAClient, MessageSecurityMode, SecurityPolicy, NodeClass, BrowseDirection, AttributeIds,
    resolveNodeId,
} = require("node-opcua-client");
const { ClientFile, OpenFileMode } = require("node-opcua-file-transfer");

const CHUNK = 64 * 1024;
const MAX_FILE = 256 * 1024 * 1024;
const FILE_TYPE = resolveNodeId("i=11575");
const DIRECTORY_TYPE = resolveNodeId("i=13353");

function arg(name, dflt) {
    const i = process.argv.indexOf("--" + name);
    return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

// a file name a device offers must stay inside the output folder
function safeName(name) {
    if (!name || name === "." || name === ".." || /[\/\\\0]/.test(name) || /[\x00-\x1f]/.test(name))
        throw new Error("refusing file name " + JSON.stringify(name));
    return name;
}

async function children(session, nodeId) {
    const res = await session.browse({
        nodeId, browseDirection: BrowseDirection.Forward, includeSubtypes: true,
        nodeClassMask: NodeClass.Object | NodeClass.Variable, resultMask: 63,
    });
    return res.references || [];
}

async function readFile(session, nodeId) {
    const file = new ClientFile(session, nodeId);
    await file.open(OpenFileMode.Read);
    const parts = [];
    let total = 0;
    try {
        for (;;) {
            const buf = await file.read(CHUNK);
            if (!buf || buf.length === 0) break;
            total += buf.length;
            if (total > MAX_FILE) throw new Error("file larger than 256 MiB");
            parts.push(buf);
        }
    } finally {
        await file.close();
    }
    return Buffer.concat(parts);
}

async function walk(session, nodeId, outDir, depth) {
    if (depth > 16) throw new Error("folders nested too deeply");
    let n = 0;
    for (const ref of await children(session, nodeId)) {
        const type = ref.typeDefinition;
        const name = ref.browseName.name;
        if (type && type.toString() === FILE_TYPE.toString()) {
            const data = await readFile(session, ref.nodeId);
            fs.writeFileSync(path.join(outDir, safeName(name)), data);
            n++;
        } else if (type && type.toString() === DIRECTORY_TYPE.toString()) {
            const sub = path.join(outDir, safeName(name));
            fs.mkdirSync(sub, { recursive: true });
            n += await walk(session, ref.nodeId, sub, depth + 1);
        }
    }
    return n;
}

async function readValue(session, nodeId) {
    const dv = await session.read({ nodeId, attributeId: AttributeIds.Value });
    const v = dv && dv.value ? dv.value.value : null;
    return typeof v === "string" && v.length > 0 ? v : null;
}

async function identity(session) {
    const id = {};
    const put = (k, v) => { if (v) id[k] = v.slice(0, 256); };
    put("manufacturer", await readValue(session, "i=2263"));
    put("model", await readValue(session, "i=2261"));
    put("firmware", await readValue(session, "i=2264"));
    // a DI DeviceSet, when offered: its first device describes the controller
    for (const ref of await children(session, "i=85")) {
        if (ref.browseName.name !== "DeviceSet") continue;
        const devices = (await children(session, ref.nodeId)).filter((r) => r.nodeClass === NodeClass.Object);
        if (devices.length === 0) break;
        for (const prop of await children(session, devices[0].nodeId)) {
            const map = { Manufacturer: "manufacturer", Model: "model", SerialNumber: "serial_number",
                          SoftwareRevision: "firmware", HardwareRevision: "hardware_revision" };
            if (map[prop.browseName.name]) put(map[prop.browseName.name], await readValue(session, prop.nodeId));
        }
        break;
    }
    return id;
}

async function main() {
    const endpoint = arg("endpoint");
    const folder = arg("folder", "");
    const outDir = process.env.OTCM_OUT;
    if (!endpoint || !outDir) throw new Error("usage: collect.js --endpoint URL [--folder NAME] (with OTCM_OUT set)");
    const client = OPCUAClient.create({
        applicationName: "otcm-agent",
        endpointMustExist: false,
        securityMode: MessageSecurityMode.None,
        securityPolicy: SecurityPolicy.None,
        connectionStrategy: { maxRetry: 1, initialDelay: 200, maxDelay: 1000 },
    });
    await client.connect(endpoint);
    try {
        const session = await client.createSession();
        try {
            let root = resolveNodeId("i=85");
            if (folder) {
                const found = (await children(session, root)).find((r) => r.browseName.name === folder);
                if (!found) throw new Error("the server has no folder '" + folder + "' under Objects");
                root = found.nodeId;
            }
            const n = await walk(session, root, outDir, 0);
            if (n === 0) throw new Error("no FileType object found under '" + (folder || "Objects") + "'");
            if (process.env.OTCM_IDENTITY)
                fs.writeFileSync(process.env.OTCM_IDENTITY, JSON.stringify(await identity(session)));
        } finally {
            await session.close();
        }
    } finally {
        await client.disconnect();
    }
}

main().then(() => process.exit(0), (e) => {
    process.stderr.write("opcua: " + (e && e.message ? e.message : String(e)) + "\n");
    process.exit(1);
});
