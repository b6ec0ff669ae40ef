/* cyolo command line: `cyolo <mode> key=value ...`.
 * Exit codes: 0 success, 1 a failure while running (bad file, bad model),
 * 2 a usage error (unknown mode or argument). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/args.h"
#include "cli/commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: cyolo <mode> key=value ...\n"
            "modes:\n"
            "  train      model=<yaml> [data=<dataset yaml>, default: the built-in set] key=value ...\n"
            "             (Ultralytics' train arguments, see cfg/default.yaml)\n"
            "  val        model=<last.pt|best.pt|yaml> [data=<dataset yaml>] [imgsz=640] [batch=16]\n"
            "             [conf=0.001] [iou=0.7] [split=val]  mAP of a model on a dataset split\n"
            "  synth      out=<dir> [task=detect|segment] [n_train=320] [n_val=80] [imgsz=320] [max_objects=6] [seed=0]\n"
            "                                                  write a synthetic detection or segment dataset\n"
            "  info       model=<yaml|x.pt> [nc=N]            layer table and model summary\n"
            "  dump       model=<yaml|x.pt> input=<x.npy> out=<dir> [init=formula|default]\n"
            "             [layers=all|i,j,...] [backend=cpu|ref] [raw=0|1]\n"
            "                                                  eval forward, tensors as .npy\n"
            "  dump       ... mode=train-step targets=<targets.json> [optimizer=SGD|AdamW|MuSGD\n"
            "             lr0= momentum= weight_decay= clip=0 watch=names epoch=0 epochs=100]\n"
            "                                                  loss, gradients, assignment, step\n"
            "  predict    model=<last.pt|yaml> source=<image|folder|list.txt> [conf=0.25] [iou=0.7]\n"
            "             [imgsz=640] [save_txt=False] [save_conf=False]  annotated images, labels\n"
            "  predict    model=<yaml> [imgsz=640] [batch=1]  (no source) eval forward on the built-in image\n"
            "  export     model=<best.pt|yaml> format=onnx [imgsz=640] [batch=1] [dynamic=False] [half=False]\n"
            "             [opset=18] [end2end=True|False] [max_det=300]   ONNX beside the model (best.onnx)\n"
            "  export     model=<best.pt> format=ultralytics   a .pt Ultralytics loads (best_ultralytics.pt)\n"
            "  benchmark  model=<yaml> [imgsz=640] [batch=1] [runs=20] [warmup=5] [threads=0]\n"
            "                                                  eval forward timing, JSON line\n"
            "  benchmark  mode=train model=<yaml> [imgsz=320] [batch=8] [runs=10] [warmup=3]\n"
            "             [optimizer=AdamW|SGD|MuSGD]          training step timing, JSON line\n"
            "  version    print the version\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *mode = argv[1];
    if (!strcmp(mode, "help") || !strcmp(mode, "--help") || !strcmp(mode, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(mode, "version") || !strcmp(mode, "--version")) {
        printf("cyolo %s\n", CYOLO_VERSION_STRING);
        return 0;
    }
    cli_args a;
    if (cli_args_parse(&a, argc - 2, argv + 2)) return 2;
    int rc = -1;
    if (!strcmp(mode, "info")) rc = cmd_info(&a);
    else if (!strcmp(mode, "train")) rc = cmd_train(&a);
    else if (!strcmp(mode, "val")) rc = cmd_val(&a);
    else if (!strcmp(mode, "synth")) rc = cmd_synth(&a);
    else if (!strcmp(mode, "dump")) rc = cmd_dump(&a);
    else if (!strcmp(mode, "predict")) rc = cmd_predict(&a);
    else if (!strcmp(mode, "benchmark")) rc = cmd_benchmark(&a);
    else if (!strcmp(mode, "export")) rc = cmd_export(&a);
    cli_args_free(&a);
    if (rc >= 0) return rc;
    fprintf(stderr, "error: unknown mode '%s'\n", mode);
    usage(stderr);
    return 2;
}
