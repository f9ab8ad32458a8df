// tests/plant/controller.js - a simulated controller for the read-back tests:
// an OPC UA server (node-opcua) on 127.0.0.1 that exposes the files of a
// folder as FileType objects inside a FileDirectoryType folder "Programs",
// its identity in the server's BuildInfo and a DI-style DeviceSet object.
// The test changes a program by rewriting a file in that folder: the next
// Open reads the new bytes, as a controller's file object would.
//
//   node controller.js --port N --dir DIR [--serial S] [--firmware F]
//
// Prints "listening opc.tcp://127.0.0.1:N" once it serves; stops on SIGTERM.
"use strict";

const fs = require("fs");
const path = require("path");
const { OPCUAServer, DataType, nodesets } = require("node-opcua");
const { installFileType } = require("node-opcua-file-transfer");

function arg(name, dflt) {
    const i = process.argv.indexOf("--" + name);
    return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

async function main() {
    const port = parseInt(arg("port", "4840"), 10);
    const dir = arg("dir");
    const serial = arg("serial", "SN-0001");
    const firmware = arg("firmware", "32.011");
    if (!dir) throw new Error("--dir is required");

    const server = new OPCUAServer({
        port,
        hostname: "127.0.0.1",
        nodeset_filename: [nodesets.standard],
        buildInfo: {
            productName: "SimLogix 5580",
            manufacturerName: "Simulated Automation",
            softwareVersion: firmware,
            productUri: "urn:otcm:test:controller",
        },
        allowAnonymous: true,
    });
    await server.initialize();
    const addressSpace = server.engine.addressSpace;
    const ns = addressSpace.getOwnNamespace();

    const dirType = addressSpace.findObjectType("FileDirectoryType");
    const fileType = addressSpace.findObjectType("FileType");
    const programs = dirType.instantiate({
        browseName: "Programs",
        organizedBy: addressSpace.rootFolder.objects,
    });
    for (const name of fs.readdirSync(dir).sort()) {
        const full = path.join(dir, name);
        if (!fs.statSync(full).isFile()) continue;
        const file = fileType.instantiate({ browseName: name, componentOf: programs });
        installFileType(file, { filename: full });
    }

    const deviceSet = ns.addFolder(addressSpace.rootFolder.objects, { browseName: "DeviceSet" });
    const plc = ns.addObject({ browseName: "PLC", organizedBy: deviceSet });
    const props = {
        Manufacturer: "Simulated Automation",
        Model: "SimLogix 5580",
        SerialNumber: serial,
        SoftwareRevision: firmware,
    };
    for (const [k, v] of Object.entries(props)) {
        ns.addVariable({
            componentOf: plc,
            browseName: k,
            dataType: DataType.String,
            value: { dataType: DataType.String, value: v },
        });
    }

    await server.start();
    process.stdout.write("listening opc.tcp://127.0.0.1:" + port + "\n");
    const stop = async () => {
        await server.shutdown(0);
        process.exit(0);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
}

main().catch((e) => {
    process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
    process.exit(1);
});
