/* Which arithmetic pays for a distillation teacher on this CPU: oneDNN's
 * inference convolution at yolo26s teacher shapes (320x320 input, two
 * images per chunk) in f32, bf16 (AVX512-BF16) and s8 (AVX512-VNNI, static
 * per-channel output scales, as an int8 teacher would run), SiLU post-op,
 * f32 output. Prints ms and GFLOP/s per shape and precision. Not a test.
 *   gcc -O2 bench/conv_precision.c -ldnnl -o /tmp/conv_precision && /tmp/conv_precision */
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <oneapi/dnnl/dnnl.h>
static double now(){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec*1e3+t.tv_nsec/1e6;}
double run(dnnl_engine_t eng, dnnl_stream_t strm, dnnl_data_type_t dt, int N,int C,int H,int O,int k,int g){
  dnnl_memory_desc_t s,w,b,d;
  dnnl_dims_t sd={N,C,H,H}, wd={O,C,k,k}, wd5={g,O/g,C/g,k,k}, bd={O}, dd={N,O,H,H};
  dnnl_memory_desc_init_by_tag(&s,4,sd,dt,dnnl_nhwc);
  if (g>1) dnnl_memory_desc_init_by_tag(&w,5,wd5,dt==dnnl_s8?dnnl_s8:dt,dnnl_format_tag_any);
  else dnnl_memory_desc_init_by_tag(&w,4,wd,dt==dnnl_s8?dnnl_s8:dt,dnnl_format_tag_any);
  dnnl_memory_desc_init_by_tag(&b,1,bd,dnnl_f32,dnnl_a);
  dnnl_memory_desc_init_by_tag(&d,4,dd,dnnl_f32,dnnl_nhwc);
  dnnl_dims_t strides={1,1}, dil={0,0}, pl={k/2,k/2}, pr={k/2,k/2};
  dnnl_convolution_desc_t cd;
  dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,&s,&w,&b,&d,strides,dil,pl,pr);
  dnnl_primitive_attr_t attr; dnnl_primitive_attr_create(&attr);
  if (dt==dnnl_s8){ static float st[1024]; for(int i=0;i<O;i++) st[i]=0.01f; dnnl_primitive_attr_set_output_scales(attr,O,2,st);}
  dnnl_post_ops_t po; dnnl_post_ops_create(&po); dnnl_post_ops_append_eltwise(po,1.0f,dnnl_eltwise_swish,1.0f,0.0f); dnnl_primitive_attr_set_post_ops(attr,po);
  dnnl_primitive_desc_t pd; if (dnnl_primitive_desc_create(&pd,&cd,attr,eng,NULL)) return -1;
  const char *impl; dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
  dnnl_primitive_t p; dnnl_primitive_create(&p,pd);
  const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  dnnl_memory_t ms,mw,mb,md;
  dnnl_memory_create(&ms,&s,eng,DNNL_MEMORY_ALLOCATE); dnnl_memory_create(&mw,wmd,eng,DNNL_MEMORY_ALLOCATE);
  dnnl_memory_create(&mb,&b,eng,DNNL_MEMORY_ALLOCATE); dnnl_memory_create(&md,&d,eng,DNNL_MEMORY_ALLOCATE);
  void *h; dnnl_memory_get_data_handle(ms,&h); memset(h,1,(size_t)N*C*H*H*(dt==dnnl_f32?4:dt==dnnl_bf16?2:1));
  dnnl_exec_arg_t a[4]={{DNNL_ARG_SRC,ms},{DNNL_ARG_WEIGHTS,mw},{DNNL_ARG_BIAS,mb},{DNNL_ARG_DST,md}};
  for(int i=0;i<3;i++){dnnl_primitive_execute(p,strm,4,a);} dnnl_stream_wait(strm);
  double t=now(); int it=20; for(int i=0;i<it;i++){dnnl_primitive_execute(p,strm,4,a);} dnnl_stream_wait(strm);
  double ms_=(now()-t)/it; double gf=2.0*N*O*H*H*(C/g)*k*k/1e9;
  printf("  %-5s %-32s %7.3f ms %6.1f GF/s\n", dt==dnnl_f32?"f32":dt==dnnl_bf16?"bf16":"s8", impl, ms_, gf/ms_*1e3);
  return ms_;
}
int main(void){
  dnnl_engine_t eng; dnnl_engine_create(&eng, dnnl_cpu, 0);
  dnnl_stream_t strm; dnnl_stream_create(&strm, eng, dnnl_stream_default_flags);
  int cases[][6]={{2,64,80,64,3,1},{2,128,40,128,3,1},{2,256,20,256,1,1},{2,128,40,128,1,1},{2,256,20,256,3,256},{2,512,10,256,1,1}};
  for(int i=0;i<6;i++){int*c=cases[i]; printf("N%d C%d H%d O%d k%d g%d\n",c[0],c[1],c[2],c[3],c[4],c[5]);
    run(eng,strm,dnnl_f32,c[0],c[1],c[2],c[3],c[4],c[5]); run(eng,strm,dnnl_bf16,c[0],c[1],c[2],c[3],c[4],c[5]); run(eng,strm,dnnl_s8,c[0],c[1],c[2],c[3],c[4],c[5]);}
}
