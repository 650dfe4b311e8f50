# Reference hashes for squashfs_v2.bin (shared data): walks the 2.0 big-endian tables in Python and
# decompresses each vendor-LZMA block with liblzma (FORMAT_ALONE, size put back). Output:
# squashfs_v2.sha256. unsquashfs lists this image (squashfs_v2.lln) but cannot extract it.
import struct, lzma, hashlib, zlib
d=open(__import__('sys').argv[1],'rb').read()
it=0x274019; dt=0x276621
def blocks(start,end):
    out=b'';pos=start;m={}
    while pos<end:
        h=struct.unpack('>H',d[pos:pos+2])[0]; sz=h&0x7fff
        m[pos-start]=len(out); out+=d[pos+2:pos+2+sz]; pos+=2+sz
    return out,m
ib,im=blocks(it,dt); db,dm=blocks(dt,0x277c02)
def ls(sb,off,size):
    p=dm[sb]+off; end=p+size; out=[]
    while p<end:
        h=struct.unpack('>I',db[p:p+4])[0]; p+=4
        cnt=(h>>24)+1; s=h&0xffffff
        for i in range(cnt):
            e=int.from_bytes(db[p:p+3],'big'); p+=3
            o=e>>11; t=(e>>8)&7; n=(e&0xff)+1
            out.append((db[p:p+n], im[s]+o, t)); p+=n
    return out
def walk(path, sb, off, size):
    for name,pos,t in ls(sb,off,size):
        full=path+b'/'+name
        typ=ib[pos]>>4
        if typ==1:
            v=struct.unpack('>I',ib[pos+4:pos+8])[0]
            walk(full, int.from_bytes(ib[pos+12:pos+15],'big'), v&0x1fff, v>>13)
        elif typ==2:
            f=struct.unpack('>IIIIII',ib[pos:pos+24]); size_=f[5]; nb=(size_+65535)//65536
            bl=struct.unpack('>%dI'%nb, ib[pos+24:pos+24+4*nb]); p=f[2]; data=b''; left=size_
            for b in bl:
                c=b&0xffffff; raw=d[p:p+c]; p+=c; want=min(left,65536)
                if b&(1<<24): data+=raw
                elif b==0: data+=bytes(want)
                else: data+=lzma.decompress(raw[:5]+struct.pack('<Q',want)+raw[5:], format=lzma.FORMAT_ALONE)
                left-=want
            assert len(data)==size_
            print(hashlib.sha256(data).hexdigest(), full.decode('latin-1'))
walk(b'', 0, 0x158e, 81)
